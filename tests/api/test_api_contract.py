"""Hostile bodies get a 4xx JSON envelope (never a 500), and the OpenAPI document covers every route."""
import io
import json
import re

from sqlalchemy import func, select

from tests.api.calls import assert_error, bearer
from wasteex.enterprises.models import Site
from wasteex.extensions import db

MiB = 1024 * 1024


def site_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Site))


def test_malformed_and_hostile_bodies_are_4xx_envelopes(client, world):
    headers = bearer(world.alice)
    url = f"/api/v1/enterprises/{world.a.id}/sites"
    raw = [
        ("malformed", b'{"name": "x",', "application/json", 400),
        ("trailing garbage", b'{"name": "x"} xyz', "application/json", 400),
        ("not utf-8", b'\xff\xfe{"name": 1}', "application/json", 400),
        ("deeply nested", b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        ("a list", b"[1, 2]", "application/json", 422),
        ("null", b"null", "application/json", 422),
        ("form encoded", b"name=x&code=y", "application/x-www-form-urlencoded", 415),
        ("plain text", b'{"name": "x"}', "text/plain", 415),
        ("xml", b"<site/>", "application/xml", 415),
    ]
    for what, body, content_type, status in raw:
        response = client.post(url, data=body, content_type=content_type, headers=headers)
        assert response.status_code == status, (what, response.status_code)
        assert_error(response, status)
    assert site_count() == 2


def test_text_no_column_can_store_is_a_400_not_a_500(client, world):
    """NUL (refused by PostgreSQL) and lone surrogates (not encodable as UTF-8)."""
    headers = bearer(world.alice)
    site_url = f"/api/v1/sites/{world.site_a.id}"
    requests = [
        ("post", "/api/v1/auth/token", {"data": '{"email": "a\\ud800@a.cn", "password": "x"}'}),
        ("post", "/api/v1/auth/token", {"data": '{"email": "alice@a.cn\\u0000", "password": "x"}'}),
        ("patch", site_url, {"data": '{"name": "\\udfff"}', "headers": headers}),
        ("patch", site_url, {"data": '{"name": "a\\u0000b"}', "headers": headers}),
        ("patch", site_url, {"data": '{"name\\u0000": "a"}', "headers": headers}),
        ("get", "/api/v1/enterprises?q=a%00b", {"headers": headers}),
    ]
    for method, url, kwargs in requests:
        response = getattr(client, method)(url, content_type="application/json", **kwargs)
        assert_error(response, 400)
    page = client.post("/account/login", data={"email": "alice@a.cn\x00", "password": "x"})
    assert page.status_code == 400
    db.session.expire_all()
    assert db.session.get(Site, world.site_a.id).name == "一号厂区"


def test_unknown_fields_and_wrong_types_are_named(client, world):
    headers = bearer(world.alice)
    url = f"/api/v1/enterprises/{world.a.id}/sites"
    site = {"name": "n", "code": "C1", "address": "a", "division_code": "150622",
            "latitude": 39.8, "longitude": 111.2}
    assert_error(client.post(url, json=site | {"base": "jungar"}, headers=headers), 422, "base")
    assert_error(client.post(url, json=site | {"enterprise_id": world.b.id}, headers=headers), 422, "enterprise_id")
    error = assert_error(client.post(url, json=site | {"name": 7, "code": ["C1"], "latitude": {"deg": 39}},
                                     headers=headers), 422, "name", "code", "latitude")
    assert "longitude" not in error["fields"]
    assert_error(client.post(url, json={}, headers=headers), 422, "name", "code", "latitude", "longitude")
    assert_error(client.patch(f"/api/v1/facilities/{world.facility_b.id}", json={"active": "maybe"},
                              headers=bearer(world.bob)), 422, "active")
    assert site_count() == 2


def test_oversized_bodies_are_refused(client, world):
    headers = bearer(world.alice)
    url = f"/api/v1/enterprises/{world.a.id}/sites"
    big = json.dumps({"name": "x" * (MiB + 1)}).encode()
    response = client.post(url, data=big, content_type="application/json", headers=headers)
    assert_error(response, 413)
    # A chunked body carries no Content-Length; it must be cut off at the same limit.
    response = client.post(url, input_stream=io.BytesIO(big), headers=headers | {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)
    huge = client.post("/api/v1/auth/token", data=b"{" + b" " * (2 * MiB) + b"}", content_type="application/json")
    assert_error(huge, 413)
    assert site_count() == 2


def test_unknown_routes_and_methods(client, world):
    headers = bearer(world.alice)
    assert_error(client.get("/api/v1/nothing-here", headers=headers), 404)
    response = client.delete(f"/api/v1/sites/{world.site_a.id}", headers=headers)
    assert_error(response, 405)
    assert "PATCH" in response.headers["Allow"]
    assert site_count() == 2


def _spec_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_openapi_document_covers_every_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    spec = json.loads(response.get_data(as_text=True))
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"

    undocumented = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in ("/api/v1/openapi.json", "/api/v1/docs"):
            continue
        path = _spec_path(rule.rule)
        operations = spec["paths"].get(path, {})
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in operations:
                undocumented.append(f"{method} {path}")
    assert not undocumented, undocumented
    for path in ("/api/v1/me", "/api/v1/auth/token", "/api/v1/enterprises", "/api/v1/enterprises/{enterprise_id}",
                 "/api/v1/enterprises/{enterprise_id}/sites", "/api/v1/sites/{site_id}",
                 "/api/v1/sites/{site_id}/facilities", "/api/v1/facilities/{facility_id}"):
        assert path in spec["paths"], path
    me = spec["paths"]["/api/v1/me"]["get"]
    assert {"bearer": []} in me["security"]
    patch = spec["paths"]["/api/v1/enterprises/{enterprise_id}"]["patch"]
    body_ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert not spec["components"]["schemas"][body_ref].get("required"), "PATCH bodies are partial"


def test_docs_page_lists_the_operations(client):
    response = client.get("/api/v1/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/api/v1/openapi.json" in html and "/api/v1/auth/token" in html
