"""Sending the outbox: e-mails and webhook calls that are due, with retries and back-off.

Each delivery is first *claimed* by one conditional UPDATE (status pending, due
now) that moves its next attempt a lease ahead and counts the attempt, and
that claim is committed before any network I/O: two senders (the after-request
hook, an RQ worker, the periodic command) never send the same attempt twice
and no database transaction stays open while a receiver is slow. A sender
that dies mid-call leaves the claim to expire, and the attempt is made again:
delivery is at least once — receivers tell repeats apart by the event ``id``.

A failed attempt is retried after ``DELIVERY_RETRY_BASE_SECONDS`` × 2^(n−1)
(capped at ``DELIVERY_RETRY_MAX_SECONDS``) until ``DELIVERY_MAX_ATTEMPTS``;
then the delivery is *failed*. A webhook whose calls fail
``WEBHOOK_MAX_FAILURES`` times in a row (any deliveries) is disabled: its
pending deliveries wait until an admin enables it again, and the admins are
told in their inbox. A success resets the count.
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from wasteex.accounts.models import MemberRole
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.extensions import db
from wasteex.notifications import N_, mail, webhooks
from wasteex.notifications.models import Channel, Delivery, DeliveryStatus, NotificationKind, Webhook
from wasteex.notifications.service import notify, path_for
from wasteex.notifications.subscriptions import reveal_secret

log = logging.getLogger(__name__)
LEASE_SECONDS = 300  # longer than any single attempt may take
BATCH = 200  # deliveries sent by one call at most


@dataclass
class Report:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


@dataclass(frozen=True)
class _Attempt:
    """Everything one attempt needs, read before the claim commits (no ORM object crosses the I/O)."""

    id: int
    channel: Channel
    event_id: str
    kind: str
    recipient: str
    subject: str
    body: str
    webhook_id: int | None
    url: str
    secret: str


def deliver_due(*, now: datetime | None = None, limit: int = BATCH) -> Report:
    """Send every due delivery (those that become due while sending too), up to ``limit``."""
    report, tried = Report(), set()
    while report.attempted < limit:
        due = [i for i in _due_ids(now or utcnow(), limit) if i not in tried]
        db.session.commit()  # end the read before any network I/O
        if not due:
            break
        for delivery_id in due[:limit - report.attempted]:
            tried.add(delivery_id)
            attempt = _claim(delivery_id, now or utcnow())
            if attempt is not None:
                _record(attempt, _send(attempt), now or utcnow(), report)
    return report


def _due_ids(now: datetime, limit: int) -> list[int]:
    return list(db.session.scalars(select(Delivery.id).where(*_sendable(now))
                                   .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)))


def _sendable(now: datetime) -> tuple:
    """Pending, due, and not held by a disabled webhook."""
    return (Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now,
            or_(Delivery.webhook_id.is_(None), Delivery.webhook_id.in_(select(Webhook.id).where(Webhook.active))))


def _claim(delivery_id: int, now: datetime) -> _Attempt | None:
    claimed = db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, *_sendable(now))
        .values(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS), attempts=Delivery.attempts + 1,
                last_attempt_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        return None  # another sender took it
    delivery = db.session.get(Delivery, delivery_id, populate_existing=True)
    hook = delivery.webhook
    attempt = _Attempt(id=delivery.id, channel=delivery.channel, event_id=delivery.event_id,
                       kind=delivery.kind.value, recipient=delivery.recipient, subject=delivery.subject,
                       body=delivery.body, webhook_id=delivery.webhook_id, url=hook.url if hook else "",
                       secret=reveal_secret(hook) if hook else "")
    db.session.commit()
    return attempt


def _send(attempt: _Attempt) -> webhooks.Outcome:
    config = current_app.config
    if attempt.channel is Channel.WEBHOOK:
        body = attempt.body.encode()
        headers = {webhooks.SIGNATURE_HEADER: webhooks.signature_header(attempt.secret, body),
                   "X-WasteEx-Event": attempt.kind, "X-WasteEx-Delivery": attempt.event_id}
        return webhooks.post(attempt.url, body, headers, timeout=config["WEBHOOK_TIMEOUT_SECONDS"],
                             allow_private=config["WEBHOOK_ALLOW_PRIVATE_TARGETS"])
    settings = mail.MailSettings.from_config()
    if settings is None:
        return webhooks.Outcome(False, None, "e-mail is not configured (MAIL_SERVER)")
    try:
        mail.send(settings, attempt.recipient, attempt.subject, attempt.body)
    except (OSError, smtplib.SMTPException) as exc:
        return webhooks.Outcome(False, None, f"{type(exc).__name__}: {exc}"[:webhooks.ERROR_EXCERPT])
    return webhooks.Outcome(True, None, "")


def _record(attempt: _Attempt, outcome: webhooks.Outcome, now: datetime, report: Report) -> None:
    config = current_app.config
    delivery = db.session.get(Delivery, attempt.id, populate_existing=True)
    if delivery is None:  # its webhook was deleted meanwhile
        db.session.rollback()
        return
    delivery.last_status, delivery.last_error = outcome.status, outcome.error
    if outcome.ok:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        report.delivered += 1
    elif delivery.attempts >= config["DELIVERY_MAX_ATTEMPTS"]:
        delivery.status = DeliveryStatus.FAILED
        report.failed += 1
    else:
        delivery.next_attempt_at = now + timedelta(seconds=webhooks.retry_delay(
            delivery.attempts, config["DELIVERY_RETRY_BASE_SECONDS"], config["DELIVERY_RETRY_MAX_SECONDS"]))
        report.retrying += 1
    if not outcome.ok:
        report.errors.append(f"delivery {attempt.id}: {outcome.error}")
    if attempt.webhook_id is not None:
        _count(attempt.webhook_id, outcome)
    db.session.commit()


def _count(webhook_id: int, outcome: webhooks.Outcome) -> None:
    """Keep the webhook's run of consecutive failures; disable it when the run is long enough."""
    if outcome.ok:
        db.session.execute(update(Webhook).where(Webhook.id == webhook_id).values(consecutive_failures=0))
        return
    hook = db.session.get(Webhook, webhook_id, with_for_update=True, populate_existing=True)
    hook.consecutive_failures += 1
    if hook.active and hook.consecutive_failures >= current_app.config["WEBHOOK_MAX_FAILURES"]:
        _disable(hook, outcome.error)


def _disable(hook: Webhook, error: str) -> None:
    """Turn the webhook off and tell the enterprise's admins (inbox, e-mail, their other webhooks)."""
    hook.active, hook.disabled_at, hook.disabled_reason = False, utcnow(), error
    db.session.flush()
    record(None, "webhook.disabled", hook, enterprise_id=hook.enterprise_id, failures=hook.consecutive_failures,
           error=error[:200])
    notify(hook.enterprise_id, NotificationKind.WEBHOOK_DISABLED,
           N_("Webhook %(url)s was disabled after %(failures)s failed calls"),
           path_for("notifications.webhook", webhook_id=hook.id),
           {"webhook_id": hook.id, "url": hook.url, "failures": hook.consecutive_failures, "error": error},
           body=N_("Last error: %(error)s. Fix the receiver, then enable the webhook again on its page."),
           roles=[MemberRole.ADMIN])
    log.warning("webhook %s of enterprise %s disabled after %s failures", hook.id, hook.enterprise_id,
                hook.consecutive_failures)
