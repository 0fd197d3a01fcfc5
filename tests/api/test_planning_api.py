"""The planning API: scenarios and runs, the anomaly worklist, 以渣定产 thresholds — and who may write."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.api.calls import assert_error, bearer
from tests.services.test_anomalies import filed, ledgered  # noqa: F401 - fixtures
from tests.services.test_market_service import market  # noqa: F401 - fixture
from wasteex.extensions import db
from wasteex.regulator.models import AnomalyStatus, PlanningScenario, QuotaThreshold

UTILISER = {"name": "新建提铝厂", "lat": 39.95, "lon": 111.25, "sw_codes": ["SW02"], "tonnes_per_year": 5000,
            "max_km": 150}


def test_a_regulator_saves_runs_and_reads_a_scenario(client, market):
    headers = bearer(market.regulator)
    created = client.post("/api/v1/planning/scenarios", json={"name": "新厂", "utilisers": [UTILISER]},
                          headers=headers)
    assert created.status_code == 201, created.json
    scenario = created.json
    assert scenario["utilisers"][0]["kg_per_year"] == 5_000_000 and scenario["latest_run"] is None
    run = client.post(f"/api/v1/planning/scenarios/{scenario['id']}/runs", headers=headers)
    assert run.status_code == 202 and run.json["status"] == "done"
    detail = client.get(f"/api/v1/planning/runs/{run.json['id']}", headers=headers).json
    assert detail["result"]["scenario"]["name"] == "新厂" and "city" in detail["result"]["plan"]
    patched = client.patch(f"/api/v1/planning/scenarios/{scenario['id']}", json={"name": "新厂（二期）"},
                           headers=headers)
    assert patched.status_code == 200 and patched.json["utilisers"] and patched.json["latest_run"]["id"] == run.json["id"]
    assert client.post("/api/v1/planning/runs", headers=headers).status_code == 202
    assert len(client.get("/api/v1/planning/runs", headers=headers).json) == 1
    assert client.delete(f"/api/v1/planning/scenarios/{scenario['id']}", headers=headers).status_code == 204


def test_bad_scenarios_name_the_field(client, market):
    headers = bearer(market.admin)
    response = client.post("/api/v1/planning/scenarios", headers=headers,
                           json={"name": "x", "utilisers": [UTILISER | {"lat": 95}]})
    assert_error(response, 422, "utilisers")
    response = client.post("/api/v1/planning/scenarios", headers=headers,
                           json={"name": "x", "removed_enterprise_ids": [market.c.id]})  # C is no producer
    assert_error(response, 422, "removed_enterprise_ids")
    assert_error(client.post("/api/v1/planning/scenarios", headers=headers, json={"name": "x", "status": "done"}),
                 422, "status")


def test_enterprise_users_are_refused_every_planning_write(client, filed):
    w = filed
    headers = bearer(w.alice)
    assert_error(client.post("/api/v1/planning/scenarios", json={"name": "x"}, headers=headers), 403)
    assert_error(client.post("/api/v1/planning/runs", headers=headers), 403)
    assert_error(client.patch(f"/api/v1/anomalies/{w.anomaly.id}", json={"status": "closed", "note": "x"},
                              headers=headers), 404)
    assert_error(client.post("/api/v1/quota/thresholds", headers=headers,
                             json={"sector": "coal", "threshold_pct": 60, "floor_factor": 0.7}), 403)
    assert_error(client.get("/api/v1/anomalies", headers=headers), 403)
    assert db.session.scalar(select(func.count()).select_from(PlanningScenario)) == 0
    assert db.session.scalar(select(func.count()).select_from(QuotaThreshold)) == 0


def test_regulators_handle_anomalies_platform_admins_read_them(client, filed):
    w = filed
    url = f"/api/v1/anomalies/{w.anomaly.id}"
    admin = bearer(w.admin)
    page = client.get("/api/v1/anomalies?kind=balance", headers=admin).json
    assert page["total"] == 1 and page["items"][0]["evidence"]["difference_kg"] == 100_000
    assert_error(client.patch(url, json={"status": "under_review"}, headers=admin), 403)
    regulator = bearer(w.regulator)
    assert_error(client.patch(url, json={"status": "closed"}, headers=regulator), 422, "note")
    assert_error(client.patch(url, json={"status": "open"}, headers=regulator), 409)
    done = client.patch(url, json={"status": "closed", "note": "企业已补录"}, headers=regulator)
    assert done.status_code == 200 and done.json["status"] == "closed"
    assert [e["to_status"] for e in done.json["events"]] == ["open", "closed"]
    db.session.refresh(w.anomaly)
    assert w.anomaly.status is AnomalyStatus.CLOSED
    assert_error(client.get("/api/v1/anomalies?sort=evil", headers=regulator), 422, "sort")


def test_a_regulator_sets_a_threshold_admins_are_refused(client, world):
    body = {"sector": "metallurgy", "threshold_pct": 55.5, "floor_factor": 0.6, "effective_from": "2025-01-01"}
    assert_error(client.post("/api/v1/quota/thresholds", json=body, headers=bearer(world.admin)), 403)
    created = client.post("/api/v1/quota/thresholds", json=body, headers=bearer(world.regulator))
    assert created.status_code == 201 and created.json["threshold"] == "0.5550"
    assert_error(client.post("/api/v1/quota/thresholds", json=body | {"floor_factor": 2},
                             headers=bearer(world.regulator)), 422, "floor_factor")
    zero = assert_error(client.post("/api/v1/quota/thresholds", json=body | {"threshold_pct": 0},
                                    headers=bearer(world.regulator)), 422, "threshold_pct")
    assert zero["code"] == "validation_failed"  # the service's rule: the document cannot state ">0"
    history = client.get("/api/v1/quota/thresholds", headers=bearer(world.admin)).json
    assert [t["sector"] for t in history] == ["metallurgy"]
