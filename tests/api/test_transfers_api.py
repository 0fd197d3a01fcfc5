"""The transfer-slip API: the whole chain over HTTP, re-authentication, bulk signing, revisions, errors."""
from __future__ import annotations

from datetime import date

from tests.api.calls import assert_error, bearer
from tests.factories import PASSWORD
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from tests.services.transfer_world import shipping  # noqa: F401 - fixture

TODAY = date.today().isoformat()


def auth(user) -> dict:
    return bearer(user) | {"X-Reauth": PASSWORD}


def new_slip(client, w, **changes) -> dict:
    body = {"agreement_id": w.agreement.id, "planned_t": "30", "planned_on": TODAY,
            "legs": [{"carrier_id": w.d.id, "plates": ["蒙K12345"], "driver": "李师傅"}]} | changes
    created = client.post("/api/v1/slips", json=body, headers=bearer(w.alice))
    assert created.status_code == 201, created.json
    return created.json


def sign(client, user, slip_id, **body):
    return client.post(f"/api/v1/slips/{slip_id}/sign", json=body, headers=auth(user))


def test_a_slip_goes_from_draft_to_closed_over_the_api(client, shipping):
    w = shipping
    slip = new_slip(client, w)
    assert slip["status"] == "draft" and slip["number"].startswith("WX-")
    assert client.get(f"/api/v1/slips/{slip['id']}", headers=bearer(w.carol)).status_code == 404  # a draft
    assert client.post(f"/api/v1/slips/{slip['id']}/publish", headers=bearer(w.alice)).json["status"] == "published"
    (waiting,) = client.get("/api/v1/slips?box=to_sign", headers=bearer(w.alice)).json["items"]
    assert waiting["id"] == slip["id"]
    assert sign(client, w.alice, slip["id"], kind="emission", dispatched_t="30", dispatched_on=TODAY,
                handler="王工").json["status"] == "emitted"
    assert sign(client, w.dave, slip["id"], kind="transport", taken_over_on=TODAY).json["status"] == "transported"
    received = sign(client, w.carol, slip["id"], kind="reception", received_t=30, refused_t="4",
                    refusal_reason="含水率高", received_on=TODAY, handler="赵工")
    assert received.json["acceptance"] == "partial" and received.json["accepted_kg"] == 26_000
    closed = sign(client, w.carol, slip["id"], kind="operation", route_key="cement_admixture", operated_on=TODAY,
                  handler="赵工")
    assert closed.json["status"] == "closed" and len(closed.json["signatures"]) == 4
    events = client.get(f"/api/v1/slips/{slip['id']}/lifecycle", headers=bearer(w.regulator)).json
    assert [e["stage"] for e in events][-1] == "operation" and all(c["intact"] for e in events for c in e["entries"])
    flow = client.get(f"/api/v1/stats/utilisation?year={date.today().year}&enterprise={w.a.credit_code}",
                      headers=bearer(w.alice)).json
    assert (flow["entrusted_utilised_t"], flow["in_transit_t"], flow["stored_t"]) == (26.0, 0.0, 4.0)


def test_signing_needs_the_reauth_header_and_the_right_party(client, shipping):
    w = shipping
    slip = new_slip(client, w)
    client.post(f"/api/v1/slips/{slip['id']}/publish", headers=bearer(w.alice))
    body = {"kind": "emission", "dispatched_t": "30", "dispatched_on": TODAY, "handler": "王工"}
    assert_error(client.post(f"/api/v1/slips/{slip['id']}/sign", json=body, headers=bearer(w.alice)), 401)
    wrong = client.post(f"/api/v1/slips/{slip['id']}/sign", json=body, headers=bearer(w.alice) | {"X-Reauth": "nope-nope-nope"})
    assert_error(wrong, 401)
    assert_error(sign(client, w.carol, slip["id"], **body), 403)
    assert_error(sign(client, w.regulator, slip["id"], **body), 403)
    assert_error(sign(client, w.alice, slip["id"], **(body | {"dispatched_t": "-1"})), 422, "dispatched_t")
    assert_error(sign(client, w.alice, slip["id"], **(body | {"kind": "approval"})), 422, "kind")
    assert_error(sign(client, w.carol, slip["id"], kind="operation", route_key="cement_admixture",
                      operated_on=TODAY, handler="x"), 409)


def test_bad_slips_are_refused_with_the_field_named(client, shipping):
    w = shipping
    alice = bearer(w.alice)
    body = {"agreement_id": w.agreement.id, "planned_t": "30", "planned_on": TODAY,
            "legs": [{"carrier_id": w.d.id, "plates": ["蒙K12345"], "driver": "李"}]}
    assert_error(client.post("/api/v1/slips", json=body | {"legs": [{"carrier_id": w.d.id, "plates": ["京A"],
                                                                      "driver": "李"}]}, headers=alice), 422, "plates")
    assert_error(client.post("/api/v1/slips", json=body | {"planned_t": "900"}, headers=alice), 422, "planned_t")
    assert_error(client.post("/api/v1/slips", json=body | {"status": "closed"}, headers=alice), 422, "status")
    assert_error(client.post("/api/v1/slips", json=body | {"planned_on": "2020-01-01"}, headers=alice), 422,
                 "planned_on")
    assert_error(client.post("/api/v1/slips", json=body, headers=bearer(w.bob)), 404)
    assert_error(client.post("/api/v1/slips", json=body, headers=bearer(w.regulator)), 403)


def test_bulk_signing_and_revisions_over_the_api(client, shipping):
    w = shipping
    ids = []
    for _ in range(3):
        slip = new_slip(client, w)
        client.post(f"/api/v1/slips/{slip['id']}/publish", headers=bearer(w.alice))
        ids.append(slip["id"])
    for slip_id in ids[:2]:
        sign(client, w.alice, slip_id, kind="emission", dispatched_t="30", dispatched_on=TODAY, handler="王工")
    outcome = client.post("/api/v1/slips/sign-many", headers=auth(w.carol), json={
        "kind": "reception", "slip_ids": ids, "received_on": TODAY, "handler": "赵工",
        "weights": {str(ids[0]): {"received_t": "30"}, str(ids[1]): {"received_t": "29.9"}}}).json
    assert [o["ok"] for o in outcome] == [True, True, False] and outcome[2]["message"]

    revision = client.post(f"/api/v1/slips/{ids[2]}/revisions", headers=bearer(w.alice),
                           json={"changes": {"planned_t": "20"}, "reason": "减量"})
    assert revision.status_code == 201 and revision.json["changes"] == {"planned_t": ["30", "20"]}
    assert_error(client.post(f"/api/v1/slip-revisions/{revision.json['id']}/decision", headers=bearer(w.carol),
                             json={"decision": "reject"}), 422, "note")
    approved = client.post(f"/api/v1/slip-revisions/{revision.json['id']}/decision", headers=bearer(w.carol),
                           json={"decision": "approve"})
    assert approved.json["status"] == "approved"
    assert client.get(f"/api/v1/slips/{ids[2]}", headers=bearer(w.alice)).json["planned_kg"] == 20_000

    assert client.put(f"/api/v1/slips/{ids[0]}/tag", json={"reference": "ERP-77"}, headers=bearer(w.carol)).status_code == 204
    found = client.get("/api/v1/slips?q=ERP-77", headers=bearer(w.carol)).json["items"]
    assert [s["id"] for s in found] == [ids[0]]


def test_the_slip_as_pdf(client, shipping):
    w = shipping
    slip = new_slip(client, w)
    client.post(f"/api/v1/slips/{slip['id']}/publish", headers=bearer(w.alice))
    response = client.get(f"/api/v1/slips/{slip['id']}/pdf", headers=bearer(w.carol))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and "attachment" in response.headers["Content-Disposition"]
    assert_error(client.get(f"/api/v1/slips/{slip['id']}/pdf", headers=bearer(w.bob)), 404)


def test_keys_the_openapi_document_cannot_describe_are_refused_by_the_service(client, shipping):
    """`make security` (schemathesis): dict keys are checked in the service, with a field name."""
    w = shipping
    slip = new_slip(client, w)
    client.post(f"/api/v1/slips/{slip['id']}/publish", headers=bearer(w.alice))
    error = assert_error(client.post(f"/api/v1/slips/{slip['id']}/revisions", headers=bearer(w.alice),
                                     json={"changes": {"x-schemathesis-additional": {}}, "reason": "0"}), 422, "changes")
    assert error["code"] == "validation_failed"
    error = assert_error(client.post(f"/api/v1/slips/{slip['id']}/revisions", headers=bearer(w.alice),
                                     json={"changes": {"planned_t": None}, "reason": "0"}), 422, "planned_t")
    assert error["code"] == "validation_failed"
    error = assert_error(client.post("/api/v1/slips/sign-many", headers=auth(w.dave), json={
        "kind": "transport", "slip_ids": [slip["id"]], "taken_over_on": TODAY,
        "weights": {"x-schemathesis-additional": {"received_t": 0}}}), 422, "weights")
    assert error["code"] == "validation_failed"
