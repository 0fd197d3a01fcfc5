"""TOTP second factor: who needs it, enrolment, checking codes, resetting it.

Operations flush, never commit; the caller owns the transaction. A checked code moves the
user's ``totp_last_step`` forward, so the caller must commit even when it then refuses the
request for another reason (or the code could be used twice).

- ``TOTP_REQUIRED_ROLES`` (config) names the platform roles that must enrol; any user may
  enrol of their own accord, and an enrolled user is always asked for a code at sign-in.
- The secret is stored encrypted (``TOTP_ENCRYPTION_KEYS``, else derived from ``SECRET_KEY``)
  and shown only while enrolment is pending; once confirmed it is never displayed again.
- Failures are throttled with the login limiter (per account and per IP) and logged.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from wasteex import security_log
from wasteex.accounts import totp
from wasteex.accounts.models import User
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.throttle import login_throttle, totp_keys_for


class TotpRefused(ValidationFailed):
    status, code = 401, "invalid_totp_code"
    already_logged = True


class TotpThrottled(ValidationFailed):
    status, code = 429, "too_many_attempts"
    already_logged = True


def required_roles() -> frozenset[str]:
    raw = current_app.config.get("TOTP_REQUIRED_ROLES") or ""
    items = raw.split(",") if isinstance(raw, str) else raw
    return frozenset(str(getattr(item, "value", item)).strip() for item in items if str(item).strip())


def enrolment_required(user: User) -> bool:
    """This account's role must use TOTP (whether or not it has enrolled yet)."""
    return user.platform_role.value in required_roles()


def second_factor_required(user: User) -> bool:
    """A password alone is not enough for this account (sign-in, API token creation)."""
    return user.totp_enabled or enrolment_required(user)


def encryption_keys() -> list[str]:
    raw = current_app.config.get("TOTP_ENCRYPTION_KEYS")
    if raw:
        keys = [k.strip() for k in (raw.split(",") if isinstance(raw, str) else raw) if k.strip()]
        if keys:
            return keys
    return [current_app.config["SECRET_KEY"]]


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_data_uri: str

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, easier to type into an app by hand."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def start_enrolment(user: User) -> Enrolment:
    """The pending secret (made on first call, kept until confirmed) with its URI and QR code."""
    if user.totp_enabled:
        raise Conflict(_("Two-step verification is already on for this account."))
    secret = None
    if user.totp_secret:
        try:
            secret = totp.decrypt_secret(user.totp_secret, encryption_keys())
        except totp.SecretUnreadable:
            secret = None
    if secret is None:
        secret = totp.new_secret()
        user.totp_secret = totp.encrypt_secret(secret, encryption_keys())
        user.totp_last_step = None
        db.session.flush()
    uri = totp.provisioning_uri(secret, user.email, current_app.config.get("TOTP_ISSUER", "WasteEx"))
    return Enrolment(secret=secret, uri=uri, qr_data_uri=totp.qr_svg_data_uri(uri))


def _check(user: User, code: str | None, ip: str | None, purpose: str) -> None:
    throttle = login_throttle()
    keys = totp_keys_for(user.id, ip)
    if throttle.blocked(*keys):
        security_log.event("totp.throttled", security_log.DENIED, user=user, purpose=purpose)
        raise TotpThrottled(_("Too many wrong codes. Please wait 15 minutes and try again."))
    step = None
    if user.totp_secret:
        try:
            secret = totp.decrypt_secret(user.totp_secret, encryption_keys())
        except totp.SecretUnreadable:
            security_log.event("totp.failure", security_log.FAILURE, user=user, purpose=purpose,
                               reason="secret_unreadable")
            raise TotpRefused(_("Your authenticator cannot be checked; ask a platform admin to reset it."))
        step = totp.matching_step(secret, code, last_step=user.totp_last_step)
    if step is None:
        throttle.failed(*keys)
        security_log.event("totp.failure", security_log.FAILURE, user=user, purpose=purpose)
        raise TotpRefused.on("code", _("Wrong or already used code."))
    throttle.clear(keys[0])
    user.totp_last_step = step


def confirm_enrolment(user: User, code: str | None, ip: str | None) -> None:
    """Turn TOTP on once a first code from the app matches; every other session ends."""
    if user.totp_enabled:
        raise Conflict(_("Two-step verification is already on for this account."))
    if not user.totp_secret:
        raise ValidationFailed.on("code", _("Start the set-up again."))
    _check(user, code, ip, "enrol")
    user.totp_enabled_at = utcnow()
    from wasteex.accounts.service import revoke_sessions

    revoke_sessions(user)
    record(user, "user.totp_enabled", user)
    security_log.event("totp.enrolled", user=user)


def verify_code(user: User, code: str | None, ip: str | None, purpose: str = "login") -> None:
    """Accept a current, unused code of an enrolled user or raise TotpRefused / TotpThrottled."""
    if not user.totp_enabled:
        raise TotpRefused.on("code", _("Two-step verification is not set up for this account."))
    _check(user, code, ip, purpose)


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None


def disable(user: User, code: str | None, ip: str | None) -> None:
    """A user whose role does not require TOTP turns it off with a current code."""
    if enrolment_required(user):
        raise PermissionDenied(_("Your role requires two-step verification."))
    verify_code(user, code, ip, purpose="disable")
    _clear(user)
    record(user, "user.totp_disabled", user)
    security_log.event("totp.disabled", user=user)


def reset(actor: User, user_id: int) -> User:
    """A platform admin clears another user's TOTP (lost phone); they enrol again at next sign-in."""
    from wasteex.accounts.permissions import require_platform_admin
    from wasteex.accounts.service import revoke_sessions

    require_platform_admin(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.id == actor.id:
        raise PermissionDenied(_("You cannot change your own account here."))
    _clear(user)
    revoke_sessions(user)
    record(actor, "user.totp_reset", user)
    security_log.event("totp.reset", user=actor, target_user_id=user.id)
    return user
