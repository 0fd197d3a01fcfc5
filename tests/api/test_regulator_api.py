"""GET /api/v1/regulator/…: the cockpit as JSON, for regulators and platform admins only."""
import json

import pytest

from tests.api.calls import assert_error, bearer
from tests.services.test_regulator_queries import city  # noqa: F401 - fixture
from tests.web.test_access_matrix import fingerprint

ENDPOINTS = ["/api/v1/regulator/overview?year=2025", "/api/v1/regulator/rates?by=base&year=2025",
             "/api/v1/regulator/months?year=2025", "/api/v1/regulator/map?year=2025",
             "/api/v1/regulator/report?year=2025"]


def test_only_read_all_accounts_get_answers(client, city):
    for path in ENDPOINTS:
        assert_error(client.get(path), 401)
        assert_error(client.get(path, headers=bearer(city.alice)), 403)
        assert client.get(path, headers=bearer(city.admin)).status_code == 200, path


def test_overview_and_rates_by_every_dimension(client, city):
    headers = bearer(city.regulator)
    before = fingerprint()
    body = client.get("/api/v1/regulator/overview?year=2025", headers=headers).json
    assert body["target"] == 0.8
    latest = {y["year"]: y for y in body["years"]}
    assert latest[2025]["rate"] == 0.545455 and latest[2025]["generated_t"] == 1600.0
    assert latest[2025]["closing_stock_t"] == 550.0 and latest[2024]["through_month"] is None
    assert [b["key"] for b in body["bases"]] == ["jungar", "uxin", "otog", "outside"]
    assert body["bases"][0]["url"] == "/regulator/base/jungar?year=2025"
    for by in ("base", "division", "sw_code", "industry", "enterprise"):
        rates = client.get(f"/api/v1/regulator/rates?by={by}&year=2025", headers=headers).json
        assert rates["by"] == by and rates["items"], by
    codes = client.get("/api/v1/regulator/rates?by=sw_code&year=2025&part=base&key=uxin", headers=headers).json
    assert [(i["key"], i["generated_t"]) for i in codes["items"] if i["generated_t"]] == [("SW59", 600.0)]
    league = client.get("/api/v1/regulator/rates?by=enterprise&year=2025&sort=-rate&per_page=1",
                        headers=headers).json
    assert league["total"] == 2 and league["items"][0]["label"] == "甲电厂"
    assert league["items"][0]["url"] == f"/regulator/enterprises/{city.a.id}?year=2025"
    assert fingerprint() == before


def test_months_map_and_report(client, city):
    headers = bearer(city.regulator)
    months = client.get(f"/api/v1/regulator/months?year=2024&part=enterprise&key={city.a.id}", headers=headers).json
    assert len(months["months"]) == 12 and months["months"][5]["generated_t"] == 800.0
    assert months["months"][11]["closing_stock_t"] == 400.0
    drawn = client.get("/api/v1/regulator/map?year=2025", headers=headers).json
    assert {p["kind"] for p in drawn["points"]} == {"producer", "utiliser"}
    assert len(drawn["banners"]) == 9 and drawn["flows_total"] == 2
    flow = drawn["flows"][0]
    assert flow["sender"] == "甲电厂" and flow["receiver"] == "乙砖厂" and flow["tonnes"] == 450.0
    release = client.get("/api/v1/regulator/report?year=2025", headers=headers).json
    assert release["year"]["rate"] == 0.545455 and release["previous"]["year"] == 2024
    assert [i["key"] for i in release["top_industries"]] == ["火力发电", "煤制烯烃"]


@pytest.mark.parametrize("query, field", [
    ("by=planet&year=2025", "by"), ("year=2025", "by"), ("by=base&year=1999", "year"),
    ("by=base&part=base", "key"), ("by=base&part=base&key=mars", "key"), ("by=base&sort=rate", "sort"),
    ("by=enterprise&sort=password", "sort"), ("by=base&per_page=1000", "per_page"),
])
def test_bad_arguments_are_named(client, city, query, field):
    assert_error(client.get(f"/api/v1/regulator/rates?{query}", headers=bearer(city.regulator)), 422, field)


def test_documented_in_openapi(client):
    spec = json.loads(client.get("/api/v1/openapi.json").get_data(as_text=True))
    for path in ("overview", "rates", "months", "map", "report"):
        operation = spec["paths"][f"/api/v1/regulator/{path}"]["get"]
        assert {"bearer": []} in operation["security"] and "200" in operation["responses"]
