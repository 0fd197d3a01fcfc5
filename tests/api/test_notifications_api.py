"""/api/v1/inbox and /api/v1/enterprises/<id>/webhooks: shapes, who may do what, bad input named."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from tests.api.calls import assert_error, bearer
from tests.factories import add_member, make_user
from tests.services.test_webhooks import hook_of_a, receiver  # noqa: F401 - fixtures
from wasteex.accounts.models import MemberRole
from wasteex.extensions import db
from wasteex.notifications import N_, service, webhooks
from wasteex.notifications.delivery import deliver_due
from wasteex.notifications.models import NotificationKind, Webhook


def slip_event(enterprise_id: int, number: str) -> None:
    service.notify(enterprise_id, NotificationKind.SLIP_TO_SIGN, N_("Slip %(number)s awaits your signature"),
                   f"/slips/{number}", {"number": number})
    db.session.commit()


def webhook_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Webhook))


# The inbox ----------------------------------------------------------------------

def test_the_inbox_lists_pages_filters_and_marks(client, world):
    w = world
    for number in ("WX-1", "WX-2", "WX-3"):
        slip_event(w.a.id, number)
    slip_event(w.b.id, "WX-B")
    headers = bearer(w.alice)
    listing = client.get("/api/v1/inbox?per_page=2", headers=headers).json
    assert (listing["total"], listing["pages"], len(listing["items"])) == (3, 2, 2)
    newest = listing["items"][0]
    assert newest["payload"] == {"number": "WX-3"} and newest["kind"] == "slip_to_sign"
    assert newest["subject"] == "Slip WX-3 awaits your signature" and newest["url"] == "/slips/WX-3"
    assert newest["read"] is False and newest["enterprise_id"] == w.a.id

    read = client.post(f"/api/v1/inbox/{newest['id']}/read", headers=headers)
    assert read.status_code == 200 and read.json["read"] is True and read.json["read_at"]
    unread = client.get("/api/v1/inbox?unread=true", headers=headers).json["items"]
    assert [n["payload"]["number"] for n in unread] == ["WX-2", "WX-1"]
    assert client.post("/api/v1/inbox/read-all", headers=headers).json == {"marked": 2}
    assert client.get("/api/v1/inbox?unread=true", headers=headers).json["total"] == 0
    assert client.get("/api/v1/inbox", headers=bearer(w.bob)).json["items"][0]["read"] is False


def test_someone_elses_notification_is_not_found(client, world):
    slip_event(world.a.id, "WX-1")
    note_id = client.get("/api/v1/inbox", headers=bearer(world.alice)).json["items"][0]["id"]
    for user in (world.bob, world.regulator, world.admin):
        assert_error(client.post(f"/api/v1/inbox/{note_id}/read", headers=bearer(user)), 404)
    assert client.get("/api/v1/inbox?unread=true", headers=bearer(world.alice)).json["total"] == 1


def test_the_inbox_refuses_bad_queries_and_anonymous_callers(client, world):
    headers = bearer(world.alice)
    assert_error(client.get("/api/v1/inbox?per_page=1000", headers=headers), 422, "per_page")
    assert_error(client.get("/api/v1/inbox"), 401)
    assert_error(client.post("/api/v1/inbox/read-all"), 401)


# Webhooks -----------------------------------------------------------------------

def test_an_admin_creates_reads_changes_and_deletes_a_webhook(client, world, receiver):
    w = world
    headers = bearer(w.alice)
    url = f"/api/v1/enterprises/{w.a.id}/webhooks"
    created = client.post(url, json={"url": receiver.url, "kinds": ["slip_to_sign"], "description": "ERP"},
                          headers=headers)
    assert created.status_code == 201, created.json
    body = created.json
    secret = body.pop("secret")
    assert secret.startswith(body["secret_hint"]) and body["active"] is True and body["kinds"] == ["slip_to_sign"]
    listed = client.get(url, headers=headers).json
    assert listed == [body] and "secret" not in json.dumps(listed).replace("secret_hint", "")
    item = f"{url}/{body['id']}"
    assert client.get(item, headers=headers).json == body

    changed = client.patch(item, json={"kinds": ["discrepancy", "slip_overdue"], "description": "SAP"},
                           headers=headers)
    assert changed.status_code == 200 and changed.json["kinds"] == ["discrepancy", "slip_overdue"]
    renewed = client.post(f"{item}/secret", headers=headers)
    assert renewed.status_code == 201 and renewed.json["secret"] != secret

    slip_event(w.a.id, "WX-1")  # not subscribed any more
    service.notify(w.a.id, NotificationKind.DISCREPANCY, N_("Discrepancy on slip %(number)s"), "/slips/1",
                   {"number": "WX-1"})
    db.session.commit()
    deliver_due()
    (call,) = receiver.calls
    assert webhooks.verify(renewed.json["secret"], call["headers"]["X-WasteEx-Signature"], call["body"])
    log = client.get(f"{item}/deliveries", headers=headers).json
    assert [(d["kind"], d["status"], d["attempts"], d["last_status"]) for d in log] == [
        ("discrepancy", "delivered", 1, 204)]

    deleted = client.delete(item, headers=headers)
    assert deleted.status_code == 204 and webhook_count() == 0
    assert_error(client.get(item, headers=headers), 404)


def test_patch_active_true_enables_a_disabled_webhook(client, world, hook_of_a, receiver, app):
    app.config["WEBHOOK_MAX_FAILURES"] = 1
    receiver.status = 500
    slip_event(world.a.id, "WX-1")
    deliver_due()
    headers = bearer(world.alice)
    item = f"/api/v1/enterprises/{world.a.id}/webhooks/{hook_of_a.id}"
    state = client.get(item, headers=headers).json
    assert state["active"] is False and state["disabled_at"] and "HTTP 500" in state["disabled_reason"]
    assert_error(client.patch(item, json={"active": False}, headers=headers), 422, "active")
    enabled = client.patch(item, json={"active": True}, headers=headers).json
    assert enabled["active"] is True and enabled["consecutive_failures"] == 0 and enabled["disabled_at"] is None


def test_only_the_enterprises_admins_manage_its_webhooks(client, world, hook_of_a, receiver):
    w = world
    member = make_user("ann@a.cn", name="Ann")
    add_member(member, w.a, MemberRole.MEMBER)
    url = f"/api/v1/enterprises/{w.a.id}/webhooks"
    item = f"{url}/{hook_of_a.id}"
    data = {"url": receiver.url, "kinds": ["discrepancy"]}
    for user, read_status in ((member, 403), (w.regulator, 200), (w.admin, 200), (w.bob, 403)):
        headers = bearer(user)
        assert client.get(url, headers=headers).status_code == read_status
        assert client.post(url, json=data, headers=headers).status_code in (403, 404)
        assert client.patch(item, json={"description": "x"}, headers=headers).status_code in (403, 404)
        assert client.post(f"{item}/secret", headers=headers).status_code in (403, 404)
        assert client.delete(item, headers=headers).status_code in (403, 404)
    regulator_view = client.get(item, headers=bearer(w.regulator)).json
    assert regulator_view["url"] == receiver.url and "secret" not in regulator_view
    assert_error(client.get(f"/api/v1/enterprises/{w.b.id}/webhooks/{hook_of_a.id}", headers=bearer(w.bob)), 404)
    db.session.expire_all()
    assert webhook_count() == 1 and hook_of_a.description == "ERP"


def test_bad_webhooks_are_refused_with_the_field_named(client, world, receiver, app):
    headers = bearer(world.alice)
    url = f"/api/v1/enterprises/{world.a.id}/webhooks"
    good = {"url": receiver.url, "kinds": ["discrepancy"]}
    assert_error(client.post(url, json=good | {"url": "ftp://erp.example.cn/x"}, headers=headers), 422, "url")
    assert_error(client.post(url, json=good | {"kinds": []}, headers=headers), 422, "kinds")
    assert_error(client.post(url, json=good | {"kinds": ["all"]}, headers=headers), 422, "kinds")
    assert_error(client.post(url, json=good | {"secret": "mine"}, headers=headers), 422, "secret")
    assert_error(client.post(url, json={"kinds": ["discrepancy"]}, headers=headers), 422, "url")
    app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = False
    error = assert_error(client.post(url, json=good, headers=headers), 422, "url")
    assert "内网" in error["fields"]["url"][0]  # "a private, loopback or reserved address"
    assert webhook_count() == 0


def test_the_openapi_document_describes_notifications(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get"} <= set(paths["/api/v1/inbox"])
    assert {"post"} <= set(paths["/api/v1/inbox/read-all"])
    assert {"get", "post"} <= set(paths["/api/v1/enterprises/{enterprise_id}/webhooks"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/enterprises/{enterprise_id}/webhooks/{webhook_id}"])
