"""The exchange API: runs, proposals, decisions, agreements; errors name the field."""
from __future__ import annotations

from tests.api.calls import assert_error, bearer
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture


def test_run_decide_and_agree_over_the_api(client, traded):
    w = traded
    run = client.post("/api/v1/matching/runs", headers=bearer(w.regulator))
    assert run.status_code == 202 and run.json["status"] == "done" and run.json["optimal"] is True
    assert run.json["matched_tonnes"] == 800.0 and len(run.json["proposals"]) == 1
    detail = client.get(f"/api/v1/matching/runs/{run.json['id']}", headers=bearer(w.admin)).json
    assert detail["snapshot"]["demands"][0]["id"] == str(w.demand_c.id)

    alice, carol = bearer(w.alice), bearer(w.carol)
    (proposal,) = client.get("/api/v1/proposals?status=pending", headers=alice).json
    assert proposal["explanation"]["spread_per_t"] == "55.00" and proposal["tonnes"] == 800.0
    answered = client.post(f"/api/v1/proposals/{proposal['id']}/decision", json={"decision": "accept"}, headers=alice)
    assert answered.json["offer_side"]["decision"] == "accepted" and answered.json["agreement_id"] is None
    agreed = client.post(f"/api/v1/proposals/{proposal['id']}/decision", json={"decision": "accept"}, headers=carol)
    assert agreed.json["status"] == "agreed"
    agreement = client.get(f"/api/v1/agreements/{agreed.json['agreement_id']}", headers=carol).json
    assert agreement["kg"] == 800_000 and agreement["remaining_kg"] == 800_000
    assert client.get(f"/api/v1/offers/{w.offer.id}", headers=alice).json["remaining_kg"] == 400_500
    assert [a["id"] for a in client.get("/api/v1/agreements", headers=bearer(w.regulator)).json] == [agreement["id"]]
    assert client.get("/api/v1/agreements", headers=bearer(w.bob)).json == []


def test_errors_name_the_field(client, traded):
    w = traded
    carol = bearer(w.carol)
    body = {"offer_id": w.offer.id, "demand_id": w.demand_c.id, "tonnes": 10}
    assert_error(client.post("/api/v1/proposals", json=body | {"tonnes": 1.0001}, headers=carol), 422, "tonnes")
    assert_error(client.post("/api/v1/proposals", json=body | {"status": "agreed"}, headers=carol), 422, "status")
    assert_error(client.post("/api/v1/proposals", json=body | {"period_end": "2020-01-01"}, headers=carol), 422)
    created = client.post("/api/v1/proposals", json=body, headers=carol)
    assert created.status_code == 201 and created.json["demand_side"]["decision"] == "accepted"
    pid = created.json["id"]
    alice = bearer(w.alice)
    assert_error(client.post(f"/api/v1/proposals/{pid}/decision", json={"decision": "maybe"}, headers=alice),
                 422, "decision")
    assert_error(client.post(f"/api/v1/proposals/{pid}/decision", json={"decision": "decline"}, headers=alice),
                 422, "reason")
    assert_error(client.post(f"/api/v1/proposals/{pid}/decision", json={"decision": "accept"},
                             headers=bearer(w.regulator)), 403)
    assert_error(client.get(f"/api/v1/proposals/{pid}", headers=bearer(w.bob)), 404)
    assert_error(client.post("/api/v1/matching/runs", headers=alice), 403)
