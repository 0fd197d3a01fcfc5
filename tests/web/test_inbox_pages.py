"""The inbox and the webhook pages, each user from their own browser."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import add_member, login, make_user
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from tests.services.test_webhooks import hook_of_a, receiver  # noqa: F401 - fixtures
from tests.web.pages import field_error
from wasteex.accounts.models import MemberRole
from wasteex.extensions import db
from wasteex.notifications import N_, service, subscriptions, webhooks
from wasteex.notifications.delivery import deliver_due
from wasteex.notifications.models import Notification, NotificationKind, Webhook

BADGE = re.compile(r'id="inbox-badge">(\d+)')


def browser(app, user):
    client = app.test_client()
    login(client, user)
    return client


def slip_event(enterprise_id: int, number: str) -> None:
    service.notify(enterprise_id, NotificationKind.SLIP_TO_SIGN, N_("Slip %(number)s awaits your signature"),
                   f"/slips/{number}", {"number": number})
    db.session.commit()


def notes_of(user) -> list[Notification]:
    user_id = user if isinstance(user, int) else user.id
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id)))


# The inbox ----------------------------------------------------------------------

def test_the_inbox_lists_my_notifications_and_the_badge_counts_the_unread(app, world):
    w = world
    slip_event(w.a.id, "WX-A1")
    slip_event(w.a.id, "WX-A2")
    slip_event(w.b.id, "WX-B1")
    alice = browser(app, w.alice)
    page = alice.get("/inbox").get_data(as_text=True)
    assert BADGE.search(page).group(1) == "2"
    assert "WX-A1" in page and "WX-A2" in page and "WX-B1" not in page
    assert page.index("WX-A2") < page.index("WX-A1")  # newest first
    assert "甲电厂" in page  # which of my enterprises it is about

    first, second = notes_of(w.alice)
    assert alice.post(f"/inbox/{first.id}/read").status_code == 302
    unread = alice.get("/inbox?unread=1").get_data(as_text=True)
    assert "WX-A2" in unread and "WX-A1" not in unread
    assert BADGE.search(unread).group(1) == "1"
    assert BADGE.search(browser(app, w.bob).get("/").get_data(as_text=True)).group(1) == "1"
    assert BADGE.search(browser(app, w.regulator).get("/").get_data(as_text=True)) is None


def test_opening_a_notification_follows_its_link_and_marks_it_read(app, world):
    slip_event(world.a.id, "WX-A1")
    (note,) = notes_of(world.alice)
    response = browser(app, world.alice).get(f"/inbox/{note.id}")
    assert response.status_code == 302 and response.headers["Location"] == "/slips/WX-A1"
    assert notes_of(world.alice)[0].is_read


def test_mark_all_read_clears_the_badge(app, world):
    for number in ("WX-1", "WX-2", "WX-3"):
        slip_event(world.a.id, number)
    alice = browser(app, world.alice)
    assert alice.post("/inbox/read-all").status_code == 302
    page = alice.get("/inbox").get_data(as_text=True)
    assert BADGE.search(page) is None and all(n.is_read for n in notes_of(world.alice))


def test_nobody_opens_or_marks_someone_elses_notification(app, world):
    w = world
    slip_event(w.a.id, "WX-A1")
    (note,) = notes_of(w.alice)
    for user in (w.bob, w.regulator, w.admin):
        client = browser(app, user)
        assert client.get(f"/inbox/{note.id}").status_code == 404
        assert client.post(f"/inbox/{note.id}/read").status_code == 404
        client.post("/inbox/read-all")
    assert not notes_of(w.alice)[0].is_read


def test_marking_read_needs_the_csrf_token(csrf_app, world):
    slip_event(world.a.id, "WX-A1")
    client = csrf_app.test_client()
    page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/account/login", data={"email": world.alice.email, "password": "correct-horse-battery-staple",
                                        "csrf_token": token})
    assert client.post("/inbox/read-all").status_code == 400
    assert not notes_of(world.alice)[0].is_read


def test_a_proposal_made_on_a_page_reaches_the_webhook_after_the_response(app, traded, receiver):
    """No Redis: the outbox is sent once the response is done (the view committed first)."""
    w = traded
    subscriptions.create_webhook(w.carol, w.c.id, {"url": receiver.url, "kinds": ["proposal_received"]})
    db.session.commit()
    alice_id, carol_id = w.alice.id, w.carol.id
    alice = browser(app, w.alice)
    response = alice.post(f"/market/demands/{w.demand_c.id}/propose",
                          data={"counterpart": str(w.offer.id), "tonnes": "12.5"})
    assert response.status_code == 302 and receiver.calls == []
    # What a server does once the response is sent: the request's session is gone (the tests share
    # theirs with the request), then the response is closed, and the outbox goes.
    db.session.remove()
    response.close()
    (event,) = receiver.bodies()
    assert event["kind"] == "proposal_received" and event["data"]["tonnes"] == "12.5"
    assert event["url"].startswith("http://localhost/proposals/")  # absolute, from the request
    assert [n.payload["tonnes"] for n in notes_of(carol_id)] == ["12.5"]
    assert notes_of(alice_id) == []  # the proposer is not told of her own proposal


# Webhook pages ------------------------------------------------------------------

def test_an_admin_adds_a_webhook_and_sees_its_secret_once(app, world, receiver):
    w = world
    alice = browser(app, w.alice)
    page = alice.get(f"/enterprises/{w.a.id}/webhooks").get_data(as_text=True)
    assert webhooks.SIGNATURE_HEADER in page and 'name="kinds"' in page
    response = alice.post(f"/enterprises/{w.a.id}/webhooks", data={
        "url": receiver.url, "description": "金蝶 ERP", "kinds": ["slip_to_sign", "discrepancy"]})
    assert response.status_code == 200
    secret = re.search(r'id="webhook-secret">(whsec_[\w-]+)<', response.get_data(as_text=True)).group(1)
    hook = db.session.scalar(select(Webhook))
    assert hook.kinds == ["slip_to_sign", "discrepancy"] and hook.description == "金蝶 ERP"
    detail = alice.get(f"/webhooks/{hook.id}").get_data(as_text=True)
    listing = alice.get(f"/enterprises/{w.a.id}/webhooks").get_data(as_text=True)
    assert secret not in detail and secret not in listing and hook.secret_hint in listing

    slip_event(w.a.id, "WX-A1")
    deliver_due()
    call = receiver.calls[0]
    assert webhooks.verify(secret, call["headers"]["X-WasteEx-Signature"], call["body"])
    log = alice.get(f"/webhooks/{hook.id}").get_data(as_text=True)
    assert '<code>204</code>' in log


def test_a_refused_url_is_shown_next_to_its_field(app, world):
    response = browser(app, world.alice).post(f"/enterprises/{world.a.id}/webhooks", data={
        "url": "http://127.0.0.1:8080/hook", "kinds": ["discrepancy"]})
    assert response.status_code == 422
    assert "内网、本机回环" in field_error(response.get_data(as_text=True), "url")
    assert db.session.scalar(select(Webhook)) is None


def test_members_regulators_and_strangers_do_not_manage_webhooks(app, world, hook_of_a, receiver):
    w = world
    member = make_user("ann@a.cn", name="Ann")
    add_member(member, w.a, MemberRole.MEMBER)
    data = {"url": receiver.url, "kinds": ["discrepancy"]}
    member_client, regulator, bob = browser(app, member), browser(app, w.regulator), browser(app, w.bob)
    assert member_client.get(f"/enterprises/{w.a.id}/webhooks").status_code == 403
    assert member_client.post(f"/enterprises/{w.a.id}/webhooks", data=data).status_code == 403
    page = regulator.get(f"/webhooks/{hook_of_a.id}").get_data(as_text=True)
    assert receiver.url in page and "/delete" not in page and "/edit" not in page
    assert 'action="/enterprises' not in regulator.get(f"/enterprises/{w.a.id}/webhooks").get_data(as_text=True)
    assert bob.get(f"/enterprises/{w.a.id}/webhooks").status_code == 403
    for client, expected in ((member_client, 404), (regulator, 403), (bob, 404)):
        assert client.post(f"/enterprises/{w.a.id}/webhooks", data=data).status_code in (403, 404)
        for action in ("edit", "enable", "secret", "delete"):
            assert client.post(f"/webhooks/{hook_of_a.id}/{action}", data=data).status_code == expected, action
    db.session.expire_all()
    assert db.session.scalars(select(Webhook)).all() == [hook_of_a] and hook_of_a.description == "ERP"


def test_a_disabled_webhook_is_flagged_to_its_admins_and_enabled_again(app, world, hook_of_a, receiver):
    w = world
    app.config["WEBHOOK_MAX_FAILURES"] = 2
    receiver.status = 500
    slip_event(w.a.id, "WX-1")
    slip_event(w.a.id, "WX-2")
    deliver_due()
    alice = browser(app, w.alice)
    inbox = alice.get("/inbox").get_data(as_text=True)
    assert f"/enterprises/{w.a.id}/webhooks" in inbox and "text-bg-danger" in inbox
    assert any(n.kind is NotificationKind.WEBHOOK_DISABLED for n in notes_of(w.alice))
    page = alice.get(f"/webhooks/{hook_of_a.id}").get_data(as_text=True)
    assert 'id="disabled-alert"' in page and "HTTP 500" in page and 'id="enable-btn"' in page

    receiver.status = 204
    assert alice.post(f"/webhooks/{hook_of_a.id}/enable").status_code == 302
    db.session.expire_all()
    assert db.session.get(Webhook, hook_of_a.id).active
    assert 'id="disabled-alert"' not in alice.get(f"/webhooks/{hook_of_a.id}").get_data(as_text=True)


def test_an_admin_changes_replaces_the_secret_of_and_deletes_a_webhook(app, world, hook_of_a):
    alice = browser(app, world.alice)
    response = alice.post(f"/webhooks/{hook_of_a.id}/edit", data={
        "url": hook_of_a.url, "description": "SAP", "kinds": ["slip_overdue"]})
    assert response.status_code == 302
    db.session.expire_all()
    assert hook_of_a.description == "SAP" and hook_of_a.kinds == ["slip_overdue"]
    assert alice.post(f"/webhooks/{hook_of_a.id}/edit", data={"url": hook_of_a.url, "kinds": []}).status_code == 422
    page = alice.post(f"/webhooks/{hook_of_a.id}/secret").get_data(as_text=True)
    secret = re.search(r'id="webhook-secret">(whsec_[\w-]+)<', page).group(1)
    db.session.expire_all()
    assert secret != hook_of_a.secret and secret.startswith(hook_of_a.secret_hint)
    response = alice.post(f"/webhooks/{hook_of_a.id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == f"/enterprises/{world.a.id}/webhooks"
    assert db.session.scalar(select(Webhook)) is None
