"""notify() and the inbox: who is told, in whose transaction, what each user sees; e-mail through a real SMTP sink.

The ``smtp_sink`` fixture (aiosmtpd, in-process on a free port) is shared with the page tests.
"""
from __future__ import annotations

import socket
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from tests.factories import add_member, make_user
from tests.services.test_agreements import run_once, traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from wasteex.accounts.models import MemberRole
from wasteex.agreements import service as agreements
from wasteex.database import utcnow
from wasteex.errors import NotFound
from wasteex.extensions import db
from wasteex.matching import runs
from wasteex.notifications import N_, outbox, service
from wasteex.notifications.delivery import deliver_due
from wasteex.notifications.models import Channel, Delivery, DeliveryStatus, Notification, NotificationKind

SLIP = NotificationKind.SLIP_TO_SIGN
SUBJECT = N_("Slip %(number)s awaits your signature")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler keeping every message it accepts; ``refuse`` answers a temporary failure."""

    def __init__(self) -> None:
        self.messages = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refuse:
            return "451 4.3.0 mailbox busy, try later"
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_sink(app):
    """A real SMTP server on 127.0.0.1, and the app configured to send through it."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_SENDER="WasteEx <noreply@wasteex.test>")
    mailbox.controller = controller
    yield mailbox
    controller.stop()


@pytest.fixture
def people(world):
    """A has Alice (admin), Ann (member), Rita (reader) and Otto (deactivated member)."""
    w = world
    w.ann = make_user("ann@a.cn", name="Ann")
    w.rita = make_user("rita@a.cn", name="Rita")
    w.otto = make_user("otto@a.cn", name="Otto")
    add_member(w.ann, w.a, MemberRole.MEMBER)
    add_member(w.rita, w.a, MemberRole.READER)
    add_member(w.otto, w.a, MemberRole.MEMBER)
    w.otto.active = False
    db.session.commit()
    return w


def slip_notice(w, **kwargs) -> list[Notification]:
    return service.notify(w.a.id, SLIP, SUBJECT, "/slips/7", {"number": "WX-20261129-7F3K2Q"}, **kwargs)


def inbox_of(user) -> list[Notification]:
    return list(service.inbox(user, per_page=100).items)


# Who is told -------------------------------------------------------------------------

def test_every_active_member_is_told_but_the_actor(people):
    w = people
    notes = slip_notice(w, exclude_user_id=w.alice.id)
    assert sorted(n.user_id for n in notes) == sorted([w.ann.id, w.rita.id])
    db.session.commit()
    assert [service.message_text(n.subject, n.payload) for n in inbox_of(w.ann)] == [
        "Slip WX-20261129-7F3K2Q awaits your signature"]
    assert inbox_of(w.alice) == [] and inbox_of(w.bob) == [] and inbox_of(w.otto) == []


def test_roles_narrow_the_recipients(people):
    w = people
    notes = slip_notice(w, roles=[MemberRole.ADMIN, MemberRole.MEMBER])
    assert sorted(n.user_id for n in notes) == sorted([w.alice.id, w.ann.id])


def test_notify_writes_in_the_callers_transaction(people):
    """It flushes, never commits: the caller's rollback takes the notices with it."""
    w = people
    slip_notice(w)
    assert db.session.info.get(outbox.PENDING) is None  # no e-mail, no webhook: nothing to send
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


@pytest.mark.parametrize("subject, url, payload", [
    ("", "/slips/7", {}),
    (SUBJECT, "https://evil.example/phish", {"number": "x"}),
    (SUBJECT, "//evil.example/phish", {"number": "x"}),
    (SUBJECT, "/slips/7", {}),  # %(number)s with nothing to fill it
    (SUBJECT, "/slips/7", {"slip": "x"}),
    (SUBJECT, "/slips/7", {"number": Decimal("1.5")}),  # not JSON
])
def test_a_malformed_notice_is_a_programming_error(people, subject, url, payload):
    with pytest.raises((ValueError, TypeError)):
        service.notify(people.a.id, SLIP, subject, url, payload)


# The inbox ---------------------------------------------------------------------------

def test_each_user_reads_and_marks_only_their_own(people):
    w = people
    slip_notice(w)
    service.notify(w.b.id, NotificationKind.DISCREPANCY, N_("Discrepancy on slip %(number)s"), "/slips/8",
                   {"number": "WX-2"})
    db.session.commit()
    (alice_note,) = inbox_of(w.alice)
    (bob_note,) = inbox_of(w.bob)
    for stranger in (w.bob, w.regulator, w.admin):
        with pytest.raises(NotFound):
            service.mark_read(stranger, alice_note.id)
    assert inbox_of(w.regulator) == []
    service.mark_read(w.alice, alice_note.id)
    db.session.commit()
    assert alice_note.is_read and not bob_note.is_read
    assert service.unread_count(w.alice) == 0 and service.unread_count(w.bob) == 1


def test_unread_filter_and_mark_all_read(people):
    w = people
    for number in ("WX-1", "WX-2", "WX-3"):
        service.notify(w.a.id, SLIP, SUBJECT, "/slips/7", {"number": number})
    service.notify(w.b.id, SLIP, SUBJECT, "/slips/9", {"number": "WX-9"})
    db.session.commit()
    first = inbox_of(w.alice)[-1]
    service.mark_read(w.alice, first.id)
    unread = service.inbox(w.alice, unread_only=True).items
    assert [n.payload["number"] for n in unread] == ["WX-3", "WX-2"]  # newest first
    assert service.mark_all_read(w.alice) == 2
    db.session.commit()
    assert service.unread_count(w.alice) == 0
    assert service.unread_count(w.bob) == 1  # someone else's stay unread
    assert service.mark_all_read(w.alice) == 0


# Proposals ---------------------------------------------------------------------------

def test_a_direct_proposal_tells_both_enterprises_but_the_proposer(traded):
    w = traded
    colleague = make_user("cora@c.cn", name="Cora")
    add_member(colleague, w.c, MemberRole.MEMBER)
    proposal = agreements.propose(w.carol, {"offer_id": w.offer.id, "demand_id": w.demand_c.id, "tonnes": "5"},
                                  runs.transport_rate())
    db.session.commit()
    (to_alice,) = inbox_of(w.alice)
    assert to_alice.kind is NotificationKind.PROPOSAL_RECEIVED and to_alice.url == f"/proposals/{proposal.id}"
    assert service.message_text(to_alice.subject, to_alice.payload) == "新的撮合建议：5 吨 SW02，由 甲电厂 至 丙水泥厂"
    assert "由 丙水泥厂 提出" in service.message_text(to_alice.body, to_alice.payload)
    assert [n.payload["proposal_id"] for n in inbox_of(colleague)] == [proposal.id]
    assert inbox_of(w.carol) == []


def test_a_matcher_run_tells_each_enterprise_once(traded):
    w = traded
    run = run_once(w.regulator)
    (proposal,) = run.proposals
    for user in (w.alice, w.carol):
        (note,) = inbox_of(user)
        assert note.payload == {"run_id": run.id, "count": 1, "kg": 800_000, "tonnes": "800",
                                "proposal_ids": [proposal.id]}
        assert note.url == "/proposals?status=pending"
    assert inbox_of(w.bob) == []


def test_a_failed_run_tells_nobody(traded, monkeypatch):
    w = traded
    monkeypatch.setattr(runs, "solve", lambda problem: 1 / 0)
    run_once(w.regulator)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


# E-mail ------------------------------------------------------------------------------

def test_e_mails_wait_for_the_commit_and_speak_each_recipients_language(people, smtp_sink):
    w = people
    w.ann.locale, w.rita.locale = "en", "zh_Hans_CN"
    db.session.commit()
    service.notify(w.a.id, SLIP, N_("Agreements"), "/agreements", {}, exclude_user_id=w.alice.id)
    emails = db.session.scalars(select(Delivery).where(Delivery.channel == Channel.EMAIL)).all()
    assert sorted(d.recipient for d in emails) == ["ann@a.cn", "rita@a.cn"]
    assert db.session.info[outbox.PENDING] is True
    db.session.commit()  # outside a request and without Redis: nothing is sent yet
    assert smtp_sink.messages == []

    report = deliver_due()
    assert (report.delivered, report.retrying, report.failed) == (2, 0, 0)
    by_recipient = {rcpt[0]: mail for rcpt, mail in smtp_sink.messages}
    assert by_recipient["ann@a.cn"]["Subject"] == "[WasteEx] Agreements"
    assert by_recipient["rita@a.cn"]["Subject"] == "[WasteEx] 协议"
    assert by_recipient["rita@a.cn"]["From"] == "WasteEx <noreply@wasteex.test>"
    assert "/agreements" in by_recipient["ann@a.cn"].get_content()
    assert all(d.status is DeliveryStatus.DELIVERED and d.attempts == 1 for d in emails)
    assert deliver_due().attempted == 0  # sent once


def test_a_refusing_smtp_server_is_retried_with_back_off_then_given_up(people, smtp_sink, app):
    w = people
    app.config.update(DELIVERY_MAX_ATTEMPTS=3, DELIVERY_RETRY_BASE_SECONDS=30)
    slip_notice(w, roles=[MemberRole.ADMIN])
    db.session.commit()
    smtp_sink.refuse = True
    start = utcnow()
    assert deliver_due(now=start).retrying == 1
    (mail,) = db.session.scalars(select(Delivery)).all()
    assert mail.attempts == 1 and mail.status is DeliveryStatus.PENDING and "451" in mail.last_error
    assert mail.next_attempt_at == start + timedelta(seconds=30)
    assert deliver_due(now=start + timedelta(seconds=29)).attempted == 0  # not due yet
    assert deliver_due(now=start + timedelta(seconds=30)).retrying == 1
    db.session.refresh(mail)
    assert mail.attempts == 2 and mail.next_attempt_at == start + timedelta(seconds=90)  # then 60 s
    assert deliver_due(now=start + timedelta(seconds=90)).failed == 1
    db.session.refresh(mail)
    assert mail.status is DeliveryStatus.FAILED and mail.attempts == 3 and smtp_sink.messages == []


def test_an_smtp_server_that_is_down_is_an_error_on_the_delivery(people, app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens there
    slip_notice(people, roles=[MemberRole.ADMIN])
    db.session.commit()
    report = deliver_due()
    assert report.retrying == 1 and "ConnectionRefusedError" in report.errors[0]
    (mail,) = db.session.scalars(select(Delivery)).all()
    assert mail.last_status is None and "ConnectionRefusedError" in mail.last_error


def test_no_mail_server_no_e_mails(people):
    slip_notice(people)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_the_deliver_command_reports_what_it_did(people, smtp_sink, app):
    slip_notice(people, roles=[MemberRole.ADMIN])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "deliver"])
    assert result.exit_code == 0, result.output
    assert "1 delivered, 0 to retry later, 0 given up" in result.output
    assert len(smtp_sink.messages) == 1
