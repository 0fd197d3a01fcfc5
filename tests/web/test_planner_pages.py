"""The planner, worklist, capacity and 以渣定产 pages: who sees them, who may write, and what they show."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import login
from tests.services.test_anomalies import filed, ledgered  # noqa: F401 - fixtures
from tests.services.test_market_service import market  # noqa: F401 - fixture
from wasteex.extensions import db
from wasteex.regulator.models import (AnomalyStatus, PlanningRun, PlanningScenario, QuotaThreshold,
                                      UtilisationCapacity)

UTILISER = {"name": "新建石膏板厂", "lat": "39.9", "lon": "111.2", "sw_codes": ["SW02"], "tonnes_per_year": "5000",
            "max_km": "120"}


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_regulators_plan_run_and_compare_a_scenario(app, market):
    client = signed_in(app, market.regulator)
    assert client.get("/regulator/planner/").status_code == 200
    response = client.post("/regulator/planner/runs")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-attainable" in page
    response = client.post("/regulator/planner/scenarios/new", data={"name": "准格尔新厂", "description": ""})
    scenario_url = response.headers["Location"]
    assert client.post(f"{scenario_url}/utilisers", data=UTILISER).status_code == 302
    bad = client.post(f"{scenario_url}/utilisers", data=UTILISER | {"lat": "north"})
    assert bad.status_code == 422 and "is-invalid" in bad.get_data(as_text=True)
    run = client.post(f"{scenario_url}/run")
    assert client.get(run.headers["Location"]).status_code == 200
    scenario = db.session.scalar(select(PlanningScenario))
    compare = client.get(f"/regulator/planner/compare?scenario={scenario.id}").get_data(as_text=True)
    assert scenario.name in compare
    assert client.post(f"{scenario_url}/utilisers/remove", data={"position": "0"}).status_code == 302
    db.session.refresh(scenario)
    assert scenario.utilisers == []


def test_enterprise_users_are_refused_the_planner_worklist_and_quota_writes(app, filed):
    w = filed
    client = signed_in(app, w.alice)
    for url in ("/regulator/planner/", "/regulator/anomalies/", "/regulator/quota/",
                f"/regulator/anomalies/{w.anomaly.id}", "/regulator/planner/scenarios/new"):
        assert client.get(url).status_code in (403, 404), url
    before = (count(PlanningRun), count(PlanningScenario), count(QuotaThreshold))
    assert client.post("/regulator/planner/runs").status_code == 403
    assert client.post("/regulator/planner/scenarios/new", data={"name": "x"}).status_code == 403
    assert client.post("/regulator/quota/thresholds", data={"sector": "coal", "threshold_pct": "60",
                                                            "floor_factor": "0.7"}).status_code == 403
    assert client.post(f"/regulator/anomalies/{w.anomaly.id}/status",
                       data={"status": "closed", "note": "x"}).status_code in (403, 404)
    assert (count(PlanningRun), count(PlanningScenario), count(QuotaThreshold)) == before
    assert w.anomaly.status is AnomalyStatus.OPEN


def test_a_regulator_handles_an_anomaly_a_platform_admin_only_reads_it(app, filed):
    w = filed
    url = f"/regulator/anomalies/{w.anomaly.id}"
    admin = signed_in(app, w.admin)
    assert admin.get(url).status_code == 200
    assert admin.post(f"{url}/status", data={"status": "under_review", "note": ""}).status_code == 403
    regulator = signed_in(app, w.regulator)
    listing = regulator.get("/regulator/anomalies/?kind=balance").get_data(as_text=True)
    assert url in listing
    refused = regulator.post(f"{url}/status", data={"status": "closed", "note": ""})
    assert refused.status_code == 422
    assert regulator.post(f"{url}/status", data={"status": "closed", "note": "已核实"}).status_code == 302
    db.session.refresh(w.anomaly)
    assert w.anomaly.status is AnomalyStatus.CLOSED and w.anomaly.note == "已核实"
    assert "已核实" in regulator.get(url).get_data(as_text=True)


def test_capacities_are_declared_by_the_utilisers_admin_never_by_a_regulator(app, market):
    w = market
    url = f"/regulator/planner/enterprises/{w.c.id}/capacities"
    data = {"site_id": str(w.site_c.id), "route_key": "cement_admixture", "sw_codes": ["SW02"],
            "tonnes_per_year": "2000", "max_km": "60"}
    for refused in (w.regulator, w.admin, w.alice):
        response = signed_in(app, refused).post(url, data=data)
        assert response.status_code in (403, 404), refused.email
    assert count(UtilisationCapacity) == 0
    carol = signed_in(app, w.carol)
    assert carol.post(url, data=data | {"max_km": "0"}).status_code == 422
    assert carol.post(url, data=data).status_code == 302
    capacity = db.session.scalar(select(UtilisationCapacity))
    assert capacity.kg_per_year == 2_000_000
    edit = f"/regulator/planner/capacities/{capacity.id}/edit"
    assert signed_in(app, w.regulator).post(edit, data=data).status_code == 403
    assert carol.post(edit, data=data | {"tonnes_per_year": "2500"}).status_code == 302
    assert signed_in(app, w.regulator).get(url).status_code == 200  # regulators read it
    assert carol.post(f"/regulator/planner/capacities/{capacity.id}/delete").status_code == 302
    assert count(UtilisationCapacity) == 0


def test_a_regulator_sets_a_threshold_on_the_quota_page(app, world):
    client = signed_in(app, world.regulator)
    bad = client.post("/regulator/quota/thresholds", data={"sector": "coal", "threshold_pct": "abc",
                                                           "floor_factor": "0.7"})
    assert bad.status_code == 422
    assert client.post("/regulator/quota/thresholds", data={"sector": "coal", "threshold_pct": "60",
                                                            "floor_factor": "0.7"}).status_code == 302
    assert count(QuotaThreshold) == 1
    assert signed_in(app, world.admin).post("/regulator/quota/thresholds", data={
        "sector": "coal", "threshold_pct": "60", "floor_factor": "0.7"}).status_code == 403
    assert "60.0 %" in client.get("/regulator/quota/").get_data(as_text=True)
