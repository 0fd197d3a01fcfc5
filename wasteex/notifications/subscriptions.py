"""An enterprise's webhooks: managed by its admins, read by them and by read-all accounts.

Managing (create, change, delete, re-enable, new secret) is for the admins of
the enterprise only: not its members or readers, and not regulators or
platform admins, who write no enterprise's business data. Anyone else asking
for a webhook by id gets ``NotFound``. The signing secret is generated here,
returned once to be shown, and stored encrypted with the keys of
``TOTP_ENCRYPTION_KEYS`` (the outbox must read it back to sign).
"""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from wasteex.accounts.models import MemberRole, User
from wasteex.accounts.second_factor import encryption_keys
from wasteex.accounts.totp import decrypt_secret, encrypt_secret
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise
from wasteex.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.market.terms import text
from wasteex.notifications import webhooks
from wasteex.notifications.models import Delivery, DeliveryStatus, NotificationKind, Webhook

MAX_PER_ENTERPRISE = 10
LOG_LENGTH = 50  # deliveries shown in a webhook's log


# Who may do what ---------------------------------------------------------------

def can_manage(actor: User, enterprise_id: int) -> bool:
    return actor.role_in(enterprise_id) is MemberRole.ADMIN


def can_read(actor: User, enterprise_id: int) -> bool:
    return actor.reads_everything or can_manage(actor, enterprise_id)


def _require_manager(actor: User, enterprise_id: int) -> None:
    if actor.reads_everything:
        raise PermissionDenied(_("Regulators and platform admins do not manage an enterprise's webhooks."))
    if not can_manage(actor, enterprise_id):
        raise PermissionDenied(_("Only an admin of this enterprise manages its webhooks."))


def _require_reader(actor: User, enterprise_id: int) -> None:
    if not can_read(actor, enterprise_id):
        raise PermissionDenied(_("Only an admin of this enterprise manages its webhooks."))


# Reading -----------------------------------------------------------------------

def webhooks_of(actor: User, enterprise_id: int) -> list[Webhook]:
    _require_reader(actor, enterprise_id)
    return list(db.session.scalars(select(Webhook).where(Webhook.enterprise_id == enterprise_id)
                                   .order_by(Webhook.id)))


def get_webhook(actor: User, webhook_id: int, enterprise_id: int | None = None) -> Webhook:
    """A webhook the actor may read (of ``enterprise_id`` when given: a mismatched path is a 404)."""
    hook = db.session.get(Webhook, webhook_id)
    if hook is None or not can_read(actor, hook.enterprise_id) or enterprise_id not in (None, hook.enterprise_id):
        raise NotFound(_("No such webhook."))
    return hook


def deliveries_of(actor: User, webhook_id: int, enterprise_id: int | None = None) -> list[Delivery]:
    """The webhook's latest deliveries, newest first."""
    hook = get_webhook(actor, webhook_id, enterprise_id)
    return list(db.session.scalars(select(Delivery).where(Delivery.webhook_id == hook.id)
                                   .order_by(Delivery.id.desc()).limit(LOG_LENGTH)))


def managed_by(actor: User) -> list[tuple[Enterprise, int]]:
    """The enterprises whose webhooks the actor manages, each with its number of disabled webhooks."""
    mine = [m for m in actor.memberships if m.role is MemberRole.ADMIN]
    if not mine:
        return []
    disabled = dict(db.session.execute(
        select(Webhook.enterprise_id, func.count()).where(
            Webhook.enterprise_id.in_([m.enterprise_id for m in mine]), Webhook.active.is_(False))
        .group_by(Webhook.enterprise_id)).all())
    return [(m.enterprise, disabled.get(m.enterprise_id, 0)) for m in mine]


def reveal_secret(hook: Webhook) -> str:
    """The signing secret in clear, for the outbox only."""
    return decrypt_secret(hook.secret_encrypted, encryption_keys())


# Managing ----------------------------------------------------------------------

def _clean(data: dict, hook: Webhook | None = None) -> dict:
    """The accepted fields of ``data`` (all of them required when creating), or ValidationFailed."""
    clean = {}
    if hook is None or "url" in data:
        url = text(data, "url", 500, required=True)
        try:
            clean["url"] = webhooks.check_url(url, current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"])
        except webhooks.TargetRefused as exc:
            raise ValidationFailed.on("url", _(str(exc))) from exc
    if hook is None or "kinds" in data:
        kinds = data.get("kinds") or []
        known = {kind.value for kind in NotificationKind}
        if not isinstance(kinds, list | tuple) or not kinds:
            raise ValidationFailed.on("kinds", _("Choose at least one kind of event."))
        if any(kind not in known for kind in kinds):
            raise ValidationFailed.on("kinds", _("Unknown kind of event; use one of: %(kinds)s.",
                                                 kinds=", ".join(sorted(known))))
        clean["kinds"] = [kind.value for kind in NotificationKind if kind.value in kinds]
    if hook is None or "description" in data:
        clean["description"] = text(data, "description", 120)
    return clean


def _new_secret(hook: Webhook) -> str:
    secret = webhooks.new_secret()
    hook.secret_encrypted = encrypt_secret(secret, encryption_keys())
    hook.secret_hint = secret[:len(webhooks.SECRET_PREFIX) + 4]
    return secret


def create_webhook(actor: User, enterprise_id: int, data: dict) -> tuple[Webhook, str]:
    """A new active webhook and its secret, which is shown this once."""
    _require_manager(actor, enterprise_id)
    count = db.session.scalar(select(func.count()).select_from(Webhook).where(Webhook.enterprise_id == enterprise_id))
    if count >= MAX_PER_ENTERPRISE:
        raise Conflict(_("An enterprise has at most %(n)s webhooks; delete one first.", n=MAX_PER_ENTERPRISE))
    hook = Webhook(enterprise_id=enterprise_id, created_by_id=actor.id, **_clean(data))
    secret = _new_secret(hook)
    db.session.add(hook)
    db.session.flush()
    record(actor, "webhook.created", hook, enterprise_id=enterprise_id, url=hook.url, kinds=",".join(hook.kinds))
    return hook, secret


def _managed(actor: User, webhook_id: int, enterprise_id: int | None) -> Webhook:
    hook = get_webhook(actor, webhook_id, enterprise_id)
    _require_manager(actor, hook.enterprise_id)
    return hook


def update_webhook(actor: User, webhook_id: int, data: dict, enterprise_id: int | None = None) -> Webhook:
    """Change the URL, kinds or description; ``active: True`` also enables a disabled webhook."""
    hook = _managed(actor, webhook_id, enterprise_id)
    if data.get("active") is False:
        raise ValidationFailed.on("active", _("Only failures disable a webhook; delete it to stop its calls."))
    for name, value in _clean(data, hook).items():
        setattr(hook, name, value)
    if data.get("active") and not hook.active:
        _enable(hook)
    db.session.flush()
    record(actor, "webhook.changed", hook, enterprise_id=hook.enterprise_id, url=hook.url,
           kinds=",".join(hook.kinds))
    return hook


def delete_webhook(actor: User, webhook_id: int, enterprise_id: int | None = None) -> None:
    """Delete the webhook and its delivery log; pending deliveries are dropped with it."""
    hook = _managed(actor, webhook_id, enterprise_id)
    record(actor, "webhook.deleted", hook, enterprise_id=hook.enterprise_id, url=hook.url)
    db.session.delete(hook)
    db.session.flush()


def new_secret(actor: User, webhook_id: int, enterprise_id: int | None = None) -> tuple[Webhook, str]:
    """Replace the signing secret (a leaked one); the new one is shown this once."""
    hook = _managed(actor, webhook_id, enterprise_id)
    secret = _new_secret(hook)
    db.session.flush()
    record(actor, "webhook.secret_replaced", hook, enterprise_id=hook.enterprise_id)
    return hook, secret


def enable_webhook(actor: User, webhook_id: int, enterprise_id: int | None = None) -> Webhook:
    """Re-enable a disabled webhook: its failure count restarts and its held deliveries are due now."""
    hook = _managed(actor, webhook_id, enterprise_id)
    if hook.active:
        raise Conflict(_("This webhook is already enabled."))
    _enable(hook)
    db.session.flush()
    record(actor, "webhook.enabled", hook, enterprise_id=hook.enterprise_id)
    return hook


def _enable(hook: Webhook) -> None:
    hook.active, hook.consecutive_failures, hook.disabled_at, hook.disabled_reason = True, 0, None, ""
    db.session.execute(update(Delivery).where(Delivery.webhook_id == hook.id,
                                              Delivery.status == DeliveryStatus.PENDING)
                       .values(next_attempt_at=utcnow()).execution_options(synchronize_session=False))

