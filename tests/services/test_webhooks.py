"""Webhooks against a real local HTTP receiver: signed calls, retries with back-off, disabling, re-enabling,
who may manage them — and the outbox handed to a real RQ worker.

The ``receiver`` fixture (a threaded HTTP server that records calls and can be told to fail) and
``hook_of_a`` are shared with the page and API tests.
"""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from tests.factories import add_member, make_user
from wasteex.accounts.models import MemberRole
from wasteex.audit.models import AuditEvent
from wasteex.database import utcnow
from wasteex.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.notifications import N_, outbox, service, subscriptions, webhooks
from wasteex.notifications.delivery import _claim, deliver_due
from wasteex.notifications.models import Delivery, DeliveryStatus, Notification, NotificationKind, Webhook

SLIP = NotificationKind.SLIP_TO_SIGN


class Receiver:
    """What the local server received; set ``status`` to answer something else than 204."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.status = 204
        self.headers: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/wasteex?tenant=7"

    def bodies(self) -> list[dict]:
        return [json.loads(call["body"]) for call in self.calls]


@pytest.fixture
def receiver(app):
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.calls.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(received.status)
            for name, value in received.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"nope!")

        def log_message(self, *args):  # keep the test output quiet
            pass

    received.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=received.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    yield received
    received.server.shutdown()
    received.server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def hook_of_a(world, receiver):
    """A webhook of enterprise A (made by its admin Alice) on the receiver, for slips and discrepancies."""
    hook, secret = subscriptions.create_webhook(world.alice, world.a.id, {
        "url": receiver.url, "kinds": ["discrepancy", "slip_to_sign"], "description": "ERP"})
    db.session.commit()
    hook.secret = secret  # for the tests' signature checks (not a column)
    return hook


def slip_event(w, number: str = "WX-1", kind: NotificationKind = SLIP) -> None:
    service.notify(w.a.id, kind, N_("Slip %(number)s awaits your signature"), "/slips/7",
                   {"number": number, "slip_id": 7})
    db.session.commit()


def deliveries() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


# Calls ---------------------------------------------------------------------------

def test_a_subscribed_event_is_posted_signed_after_the_commit(world, hook_of_a, receiver, app):
    w = world
    app.config["PUBLIC_URL"] = "https://wasteex.example.cn"
    slip_event(w)
    slip_event(w, kind=NotificationKind.REVISION_REQUEST)  # not subscribed
    assert receiver.calls == []  # committed, but nothing is sent inside or outside a request yet

    assert deliver_due().delivered == 1
    (call,) = receiver.calls
    assert call["path"] == "/hooks/wasteex?tenant=7"
    headers = call["headers"]
    assert headers["Content-Type"] == "application/json; charset=utf-8" and headers["X-WasteEx-Event"] == "slip_to_sign"
    assert webhooks.verify(hook_of_a.secret, headers["X-WasteEx-Signature"], call["body"])
    assert not webhooks.verify(hook_of_a.secret + "x", headers["X-WasteEx-Signature"], call["body"])
    event = json.loads(call["body"])
    assert event["kind"] == "slip_to_sign" and event["id"] == headers["X-WasteEx-Delivery"]
    assert event["data"] == {"number": "WX-1", "slip_id": 7}
    assert event["url"] == "https://wasteex.example.cn/slips/7"
    assert event["enterprise"] == {"id": w.a.id, "name": "甲电厂", "credit_code": w.a.credit_code}
    (sent,) = deliveries()
    assert (sent.status, sent.attempts, sent.last_status) == (DeliveryStatus.DELIVERED, 1, 204)
    assert deliver_due().attempted == 0


def test_the_secret_is_stored_encrypted_and_shown_by_its_first_characters(hook_of_a):
    stored = db.session.scalar(select(Webhook.secret_encrypted).where(Webhook.id == hook_of_a.id))
    assert hook_of_a.secret not in stored and hook_of_a.secret.startswith(hook_of_a.secret_hint)
    assert subscriptions.reveal_secret(hook_of_a) == hook_of_a.secret


def test_a_failed_call_is_retried_with_back_off_and_a_success_resets_the_count(world, hook_of_a, receiver):
    slip_event(world)
    receiver.status = 500
    start = utcnow()
    assert deliver_due(now=start).retrying == 1
    (delivery,) = deliveries()
    assert (delivery.attempts, delivery.last_status) == (1, 500) and "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at == start + timedelta(seconds=30)
    assert db.session.get(Webhook, hook_of_a.id).consecutive_failures == 1

    assert deliver_due(now=start + timedelta(seconds=29)).attempted == 0
    assert deliver_due(now=start + timedelta(seconds=30)).retrying == 1
    assert deliveries()[0].next_attempt_at == start + timedelta(seconds=90)

    receiver.status = 200
    assert deliver_due(now=start + timedelta(seconds=90)).delivered == 1
    (delivery,) = deliveries()
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 3 and delivery.last_error == ""
    assert db.session.get(Webhook, hook_of_a.id).consecutive_failures == 0
    assert len(receiver.calls) == 3
    signatures = {call["headers"]["X-WasteEx-Signature"] for call in receiver.calls}
    assert all(webhooks.verify(hook_of_a.secret, s, receiver.calls[0]["body"]) for s in signatures)


@pytest.mark.parametrize("status, headers", [(302, {"Location": "http://169.254.169.254/"}), (404, {}), (503, {})])
def test_redirects_and_errors_are_failures(world, hook_of_a, receiver, status, headers):
    receiver.status, receiver.headers = status, headers
    slip_event(world)
    assert deliver_due().retrying == 1
    assert len(receiver.calls) == 1  # the redirect was not followed
    assert deliveries()[0].last_status == status


def test_a_receiver_that_is_gone_is_a_connection_error(world, hook_of_a, receiver):
    receiver.server.shutdown()
    receiver.server.server_close()
    slip_event(world)
    deliver_due()
    (delivery,) = deliveries()
    assert delivery.last_status is None and "ConnectionRefusedError" in delivery.last_error


def test_a_delivery_is_given_up_after_its_last_attempt(world, hook_of_a, receiver, app):
    app.config.update(DELIVERY_MAX_ATTEMPTS=2, WEBHOOK_MAX_FAILURES=100)
    receiver.status = 500
    slip_event(world)
    start = utcnow()
    deliver_due(now=start)
    assert deliver_due(now=start + timedelta(hours=1)).failed == 1
    assert deliveries()[0].status is DeliveryStatus.FAILED
    assert deliver_due(now=start + timedelta(days=1)).attempted == 0


def test_repeated_failures_disable_the_webhook_and_tell_its_admins(world, hook_of_a, receiver, app):
    w = world
    app.config["WEBHOOK_MAX_FAILURES"] = 3
    member = make_user("ann@a.cn", name="Ann")
    add_member(member, w.a, MemberRole.MEMBER)
    receiver.status = 500
    for n in range(5):
        slip_event(w, number=f"WX-{n}")
    report = deliver_due()
    assert report.retrying == 3 and len(receiver.calls) == 3  # the other two wait for the webhook

    hook = db.session.get(Webhook, hook_of_a.id)
    assert not hook.active and hook.consecutive_failures == 3 and "HTTP 500" in hook.disabled_reason
    (told,) = db.session.scalars(select(Notification).where(
        Notification.kind == NotificationKind.WEBHOOK_DISABLED)).all()
    assert told.user_id == w.alice.id and told.url == f"/webhooks/{hook.id}"
    assert service.message_text(told.subject, told.payload) == (
        f"Webhook {receiver.url} 因 3 次调用失败已被停用")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "webhook.disabled")) == 1
    slip_event(w, number="WX-5")  # an event while disabled waits for it too
    assert deliver_due(now=utcnow() + timedelta(days=1)).attempted == 0  # nothing goes out while disabled

    receiver.status = 204
    subscriptions.enable_webhook(w.alice, hook.id)
    db.session.commit()
    assert hook.active and hook.consecutive_failures == 0 and hook.disabled_at is None
    assert deliver_due().delivered == 6  # the three retried and the three held, at once
    assert sorted(e["data"]["number"] for e in receiver.bodies()[3:]) == [f"WX-{n}" for n in range(6)]


def test_one_claim_per_attempt(world, hook_of_a):
    """Two senders racing for one delivery: the conditional UPDATE gives it to the first only."""
    slip_event(world)
    (delivery,) = deliveries()
    now = utcnow()
    assert _claim(delivery.id, now) is not None
    assert _claim(delivery.id, now) is None
    assert deliveries()[0].attempts == 1


def test_deleting_a_webhook_drops_its_log(world, hook_of_a):
    slip_event(world)
    subscriptions.delete_webhook(world.alice, hook_of_a.id)
    db.session.commit()
    assert deliveries() == []


# Managing --------------------------------------------------------------------------

def test_only_the_enterprises_admins_manage_its_webhooks(world, hook_of_a, receiver):
    w = world
    member = make_user("ann@a.cn", name="Ann")
    add_member(member, w.a, MemberRole.MEMBER)
    data = {"url": receiver.url, "kinds": ["discrepancy"]}
    for actor in (member, w.regulator, w.admin):
        for call in (lambda: subscriptions.create_webhook(actor, w.a.id, data),
                     lambda: subscriptions.update_webhook(actor, hook_of_a.id, {"description": "x"}),
                     lambda: subscriptions.new_secret(actor, hook_of_a.id),
                     lambda: subscriptions.delete_webhook(actor, hook_of_a.id)):
            with pytest.raises((PermissionDenied, NotFound)):
                call()
    for outsider in (member, w.bob):
        with pytest.raises(PermissionDenied):
            subscriptions.webhooks_of(outsider, w.a.id)
    for stranger_call in (lambda: subscriptions.get_webhook(w.bob, hook_of_a.id),
                          lambda: subscriptions.delete_webhook(w.bob, hook_of_a.id)):
        with pytest.raises(NotFound):
            stranger_call()
    assert [h.id for h in subscriptions.webhooks_of(w.regulator, w.a.id)] == [hook_of_a.id]  # read-only
    assert subscriptions.get_webhook(w.alice, hook_of_a.id, enterprise_id=w.a.id) == hook_of_a
    with pytest.raises(NotFound):
        subscriptions.get_webhook(w.alice, hook_of_a.id, enterprise_id=w.b.id)


def bad_fields(actor, enterprise_id, data) -> dict:
    with pytest.raises(ValidationFailed) as refused:
        subscriptions.create_webhook(actor, enterprise_id, data)
    db.session.rollback()
    return refused.value.fields


def test_bad_webhooks_are_refused_with_the_field_named(world, receiver, app):
    w = world
    kinds = ["discrepancy"]
    assert "url" in bad_fields(w.alice, w.a.id, {"url": "", "kinds": kinds})
    assert "url" in bad_fields(w.alice, w.a.id, {"url": "ftp://erp.example.cn/", "kinds": kinds})
    assert "url" in bad_fields(w.alice, w.a.id, {"url": "https://" + "x" * 500, "kinds": kinds})
    assert "kinds" in bad_fields(w.alice, w.a.id, {"url": receiver.url, "kinds": []})
    assert "kinds" in bad_fields(w.alice, w.a.id, {"url": receiver.url, "kinds": ["everything"]})
    assert "description" in bad_fields(w.alice, w.a.id, {"url": receiver.url, "kinds": kinds, "description": "d" * 121})
    app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = False
    fields = bad_fields(w.alice, w.a.id, {"url": receiver.url, "kinds": kinds})
    assert fields["url"] == ["该地址指向内网、本机回环或保留地址。"]
    assert "url" in bad_fields(w.alice, w.a.id, {"url": "http://169.254.169.254/latest/meta-data", "kinds": kinds})
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0


def test_an_enterprise_has_a_limited_number_of_webhooks(world, receiver):
    for _ in range(subscriptions.MAX_PER_ENTERPRISE):
        subscriptions.create_webhook(world.alice, world.a.id, {"url": receiver.url, "kinds": ["discrepancy"]})
    with pytest.raises(Conflict):
        subscriptions.create_webhook(world.alice, world.a.id, {"url": receiver.url, "kinds": ["discrepancy"]})


def test_a_new_secret_replaces_the_old_one(world, hook_of_a, receiver):
    hook, secret = subscriptions.new_secret(world.alice, hook_of_a.id)
    db.session.commit()
    assert secret != hook_of_a.secret
    slip_event(world)
    deliver_due()
    signature = receiver.calls[0]["headers"]["X-WasteEx-Signature"]
    assert webhooks.verify(secret, signature, receiver.calls[0]["body"])
    assert not webhooks.verify(hook_of_a.secret, signature, receiver.calls[0]["body"])


# The outbox on RQ ----------------------------------------------------------------------

@pytest.fixture
def redis_queue(rq_redis, monkeypatch):
    monkeypatch.setenv("WASTEEX_WEBHOOK_ALLOW_PRIVATE_TARGETS", "1")  # the worker's app calls the local receiver
    return Queue(outbox.QUEUE, connection=rq_redis)


def test_with_redis_the_commit_queues_a_job_that_a_worker_sends(world, hook_of_a, receiver, redis_queue):
    service.notify(world.a.id, SLIP, N_("Slip %(number)s awaits your signature"), "/slips/7", {"number": "WX-1"})
    assert redis_queue.count == 0  # not before the commit
    db.session.commit()
    assert redis_queue.count == 1
    db.session.remove()  # let the worker's app write

    SimpleWorker([redis_queue], connection=redis_queue.connection).work(burst=True)

    assert [e["data"]["number"] for e in receiver.bodies()] == ["WX-1"]
    assert deliveries()[0].status is DeliveryStatus.DELIVERED


def test_a_rolled_back_notice_queues_nothing(world, hook_of_a, redis_queue):
    service.notify(world.a.id, SLIP, N_("Slip %(number)s awaits your signature"), "/slips/7", {"number": "WX-1"})
    db.session.rollback()
    db.session.commit()
    assert redis_queue.count == 0 and deliveries() == []
