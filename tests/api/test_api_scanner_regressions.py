"""Defects found by `make security` (schemathesis against the served OpenAPI document), one test each."""
from __future__ import annotations

from tests.api.calls import assert_error, bearer
from tests.factories import make_stream
from wasteex.api.base import ID_MAX
from wasteex.extensions import api

HUGE = 10**40  # past SQLite's 64-bit integers: OverflowError (a 500) before the fix


def _walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def test_openapi_bounds_are_numbers_and_decimal_strings_are_strings(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, node in _walk(spec):
        for key in ("minimum", "maximum"):
            if key in node and isinstance(node[key], int | float | str):
                assert not isinstance(node[key], str), (path, key, node[key])  # was "1000000000"
    schemas = spec["components"]["schemas"]
    assert schemas["OfferOut"]["properties"]["price_per_t"]["type"] == "string"  # sent as "-35.00"
    assert schemas["StreamIn"]["properties"]["expected_annual_tonnes"]["maximum"] == 10**9


def test_a_nullable_nested_body_accepts_null_not_any_object(client):
    replacement = client.get("/api/v1/openapi.json").json["components"]["schemas"]["CorrectionIn"]["properties"][
        "replacement"]
    null_branch = next(b for b in replacement["anyOf"] if "$ref" not in b)
    assert null_branch["enum"] == [None]


def test_path_ids_are_bounded_and_documented(client, world):
    headers = bearer(world.alice)
    for method, url in [("post", f"/api/v1/offers/{HUGE}/close"), ("post", f"/api/v1/demands/{HUGE}/publish"),
                        ("get", f"/api/v1/sites/{ID_MAX + 1}"), ("get", "/api/v1/enterprises/0")]:
        assert_error(getattr(client, method)(url, headers=headers), 404)
    param = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/sites/{site_id}"]["parameters"][0]
    assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": ID_MAX}


def test_body_and_query_ids_out_of_range_are_422_not_500(client, world):
    headers = bearer(world.alice)
    stream = {"site_id": HUGE, "name": "粉煤灰", "sw_code": "SW02", "gb_class": "I", "physical_form": "powder",
              "process_step": "除尘", "expected_annual_tonnes": 10}
    assert_error(client.post(f"/api/v1/enterprises/{world.a.id}/streams", json=stream, headers=headers),
                 422, "site_id")
    assert_error(client.get(f"/api/v1/offers?enterprise_id={HUGE}", headers=headers), 422, "enterprise_id")
    assert_error(client.get(f"/api/v1/demands?near={HUGE}", headers=headers), 422, "near")


def test_quantities_past_what_a_column_holds_are_422_not_500(client, world):
    headers = bearer(world.alice)
    entry = {"kind": "generation", "period_date": "2025-06-01", "tonnes": 3e16, "handler": "张三"}
    assert_error(client.post(f"/api/v1/enterprises/{world.a.id}/ledger", json=entry, headers=headers), 422, "tonnes")


def test_nested_field_errors_keep_the_documented_shape(client, world):
    """``fields`` is name -> list of strings, also for nested schemas, lists and dicts."""
    headers = bearer(world.alice)
    enterprise = {"name": "x", "credit_code": "x", "kinds": ["nope"], "industry": "x", "address": "x",
                  "division_code": "150622", "contact_name": "x", "contact_phone": "x"}
    error = assert_error(client.post("/api/v1/enterprises", json=enterprise, headers=headers), 422, "kinds")
    lines = {"lines": [{"kind": "generation", "period_date": "2025-06-01", "tonnes": "x", "handler": "h",
                        "reference": "r1", "extra": 1}]}
    error2 = assert_error(client.post(f"/api/v1/enterprises/{world.a.id}/ledger/import", json=lines,
                                      headers=headers), 422, "lines")
    for fields in (error["fields"], error2["fields"]):
        assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in fields.values()), fields
    assert any(m.startswith("0.tonnes: ") for m in error2["fields"]["lines"]), error2


def test_booleans_in_a_body_are_json_booleans(client, world):
    headers = bearer(world.bob)
    url = f"/api/v1/facilities/{world.facility_b.id}"
    for value in (0, 1, "true", "yes"):
        assert_error(client.patch(url, json={"active": value}, headers=headers), 422, "active")
    assert client.patch(url, json={"active": False}, headers=headers).json["active"] is False


def test_a_write_without_its_body_is_a_400(client, world):
    headers = bearer(world.alice)
    assert_error(client.patch(f"/api/v1/sites/{world.site_a.id}", headers=headers), 400)  # was a 200
    assert client.patch(f"/api/v1/sites/{world.site_a.id}", json={}, headers=headers).status_code == 200
    make_stream(world.a, world.site_a)
    # Actions without a body (publish, verify …) are unaffected.
    assert client.post(f"/api/v1/enterprises/{world.a.id}/verify", headers=headers).status_code == 403


def test_anonymous_writes_are_401_even_with_csrf_on(csrf_app, world):
    client = csrf_app.test_client()
    for method, url in [("post", f"/api/v1/enterprises/{world.a.id}/sites"),
                        ("patch", f"/api/v1/sites/{world.site_a.id}"),
                        ("post", f"/api/v1/enterprises/{world.a.id}/ledger/import")]:
        assert_error(getattr(client, method)(url, json={"name": "x"}), 401)  # was a 400 (CSRF)
    assert_error(client.post("/api/v1/auth/token", json={"email": "nobody@a.cn", "password": "x"}), 401)


def test_rules_across_query_parameters_are_rule_errors(client, world):
    """Not expressible in OpenAPI 3.0: refused as business rules (validation_failed), documented in text."""
    headers = bearer(world.alice)
    error = assert_error(client.get("/api/v1/stats/utilisation?year=2025&month=1&through_month=2", headers=headers),
                         422, "through_month")
    assert error["code"] == "validation_failed"
    for query, field in (("km=10", "km"), ("sort=distance", "sort")):
        error = assert_error(client.get(f"/api/v1/offers?{query}", headers=headers), 422, field)
        assert error["code"] == "validation_failed"
    spec = api.spec.to_dict()
    km = next(p for p in spec["paths"]["/api/v1/offers"]["get"]["parameters"] if p["name"] == "km")
    assert "needs near" in km["description"]
