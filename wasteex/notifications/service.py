"""Notifying an enterprise, and each user's inbox.

**The public API** other packages call is :func:`notify`, with a subject marked
by ``N_`` (``from wasteex.notifications import N_``)::

    notify(slip.receiver_id, NotificationKind.SLIP_TO_SIGN,
           N_("Slip %(number)s awaits your reception signature"),
           path_for("transfers.slip", slip_id=slip.id), {"slip_id": slip.id, "number": slip.number},
           exclude_user_id=actor.id)

In the caller's transaction (it flushes, never commits) it writes one inbox row
per member of the enterprise, one e-mail per member when SMTP is configured,
and one call per webhook of the enterprise subscribed to the kind.
Nothing is sent here: the e-mails and calls are outbox rows sent after the
commit (``outbox.py``), so a rolled-back action notifies nobody and a slow
receiver never holds a business transaction open.

Subjects and bodies are message ids with ``%(name)s`` placeholders filled from
``payload``; the inbox translates them for each reader, e-mails are written in
each recipient's language, webhooks get the platform's default language and
the payload itself (``data``), which is the machine-readable part.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from typing import Any

from flask import current_app, has_request_context, request, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select, update

from wasteex.accounts.models import MemberRole, Membership, User
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise
from wasteex.errors import NotFound
from wasteex.extensions import db
from wasteex.listing import Page, Sorts, paginate
from wasteex.notifications import mail, outbox
from wasteex.notifications.models import Channel, Delivery, Notification, NotificationKind, Webhook

INBOX_SORTS = Sorts({"id": Notification.id}, default="-id")


# Notifying ------------------------------------------------------------------------

def notify(enterprise_id: int, kind: NotificationKind, subject: str, url: str, payload: dict[str, Any], *,
           body: str = "", exclude_user_id: int | None = None,
           roles: Collection[MemberRole] | None = None) -> list[Notification]:
    """Tell the members of an enterprise (those with ``roles``, all by default; never ``exclude_user_id``,
    usually the actor) that something happened; returns the inbox rows written.

    ``url`` is a path inside WasteEx (:func:`path_for` works in requests, commands and jobs alike);
    ``payload`` a JSON object of plain values (strings for decimals).
    A malformed message is a programming error: ``ValueError``.
    """
    _check_message(subject, body, url, payload)
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise ValueError(f"no enterprise {enterprise_id}")
    recipients = _members(enterprise_id, roles, exclude_user_id)
    notes = [Notification(user_id=user.id, enterprise_id=enterprise_id, kind=kind, subject=subject, body=body,
                          url=url, payload=payload) for user in recipients]
    db.session.add_all(notes)
    event_id = uuid.uuid4().hex
    deliveries = _emails(event_id, kind, enterprise, recipients, subject, body, url, payload)
    deliveries += _webhook_calls(event_id, kind, enterprise, subject, url, payload)
    if deliveries:
        db.session.add_all(deliveries)
        outbox.mark_pending(db.session)
    db.session.flush()
    return notes


def _check_message(subject: str, body: str, url: str, payload: dict[str, Any]) -> None:
    if not subject or len(subject) > 255:
        raise ValueError("a notification subject has 1 to 255 characters")
    if not url.startswith("/") or url.startswith("//") or len(url) > 500:
        raise ValueError(f"a notification links to a path inside WasteEx, not {url!r}")
    json.dumps(payload)  # TypeError for what a webhook could not carry
    for text in (subject, body):
        try:
            _fill(text, payload)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{text!r} does not fit its payload: {exc!r}") from exc


def _fill(text: str, payload: dict[str, Any]) -> str:
    """Placeholders filled (always, so "%%" is a literal % whatever the payload)."""
    return text % payload


def _members(enterprise_id: int, roles: Collection[MemberRole] | None, exclude_user_id: int | None) -> list[User]:
    stmt = (select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.enterprise_id == enterprise_id, User.active.is_(True)).order_by(User.id))
    if roles:
        stmt = stmt.where(Membership.role.in_(list(roles)))
    if exclude_user_id is not None:
        stmt = stmt.where(User.id != exclude_user_id)
    return list(db.session.scalars(stmt))


def message_text(text: str, payload: dict[str, Any]) -> str:
    """A stored message id in the current language, its placeholders filled.

    A translation that names a placeholder the payload lacks falls back to the source text.
    """
    if not text:
        return ""
    try:
        return _fill(_(text), payload)
    except (KeyError, ValueError, TypeError):
        return _fill(text, payload)


def path_for(endpoint: str, **values: Any) -> str:
    """``url_for`` that also works outside a request (a CLI command, a job): the path only."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute_url(path: str) -> str:
    """``PUBLIC_URL`` + path; else the address of the current request; else the path as it is."""
    base = current_app.config.get("PUBLIC_URL") or (request.url_root if has_request_context() else "")
    return base.rstrip("/") + path if base else path


def _emails(event_id: str, kind: NotificationKind, enterprise: Enterprise, recipients: list[User], subject: str,
            body: str, url: str, payload: dict[str, Any]) -> list[Delivery]:
    if not mail.enabled():
        return []
    link, now = absolute_url(url), utcnow()
    emails = []
    for user in recipients:
        with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            title, text = message_text(subject, payload), message_text(body, payload)
            footer = _("You receive this e-mail as a member of %(enterprise)s on WasteEx.", enterprise=enterprise.name)
        paragraphs = [title, text, link, f"-- \n{footer}"]
        emails.append(Delivery(channel=Channel.EMAIL, event_id=event_id, kind=kind, recipient=user.email,
                               subject=f"[WasteEx] {title}"[:300], body="\n\n".join(p for p in paragraphs if p),
                               next_attempt_at=now))
    return emails


def _webhook_calls(event_id: str, kind: NotificationKind, enterprise: Enterprise, subject: str, url: str,
                   payload: dict[str, Any]) -> list[Delivery]:
    """One call per subscribed webhook; a disabled one's wait until it is enabled again (not lost)."""
    hooks = [hook for hook in db.session.scalars(select(Webhook).where(Webhook.enterprise_id == enterprise.id)
                                                 .order_by(Webhook.id)) if hook.subscribes(kind)]
    if not hooks:
        return []
    now = utcnow()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        event = {"id": event_id, "kind": kind.value, "created_at": now.isoformat(timespec="seconds"),
                 "enterprise": {"id": enterprise.id, "name": enterprise.name, "credit_code": enterprise.credit_code},
                 "subject": message_text(subject, payload), "url": absolute_url(url), "data": payload}
    body = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return [Delivery(channel=Channel.WEBHOOK, event_id=event_id, kind=kind, webhook=hook, body=body,
                     next_attempt_at=now) for hook in hooks]


# The inbox ------------------------------------------------------------------------

def _mine(actor: User):
    return select(Notification).where(Notification.user_id == actor.id)


def inbox(actor: User, *, unread_only: bool = False, page: int = 1, per_page: int = 20) -> Page[Notification]:
    """The actor's own notifications, newest first (read-all accounts too: an inbox is personal)."""
    stmt = _mine(actor)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(stmt, INBOX_SORTS, None, page, per_page)


def unread_count(actor: User) -> int:
    """One COUNT on the ``(user_id, read_at)`` index: cheap enough for every page's badge."""
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == actor.id, Notification.read_at.is_(None)))


def get_notification(actor: User, notification_id: int) -> Notification:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != actor.id:
        raise NotFound(_("No such notification."))
    return note


def mark_read(actor: User, notification_id: int) -> Notification:
    note = get_notification(actor, notification_id)
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.flush()
    return note


def mark_all_read(actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many were."""
    result = db.session.execute(
        update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session="fetch"))
    return result.rowcount
