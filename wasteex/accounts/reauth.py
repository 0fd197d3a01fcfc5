"""Re-authentication before sensitive acts (ASVS 3.7.1): "confirm it is still you".

The contract
------------
A sensitive operation (signing a transfer slip, ...) calls, in its service::

    from wasteex.accounts.reauth import require_recent_auth
    require_recent_auth(actor, minutes=5)            # or minutes=None: REAUTH_MAX_AGE_MINUTES

It returns when ``actor`` proved who they are recently enough and otherwise raises
``ReauthRequired`` (HTTP 401, code ``reauth_required``; the JSON envelope under ``/api/``).
A wrong proof raises ``ReauthRefused`` (401, ``reauth_failed``), too many wrong proofs
``ReauthThrottled`` (429). The proof is either of:

1. **Web, cookie session**: the session's ``reauth_at`` timestamp, set at sign-in (password,
   plus a TOTP code when enrolled) and by the page ``/account/reauth?next=...`` ("confirm with
   your password or a TOTP code"), which returns to ``next``. Views wrap themselves in
   ``@recent_auth_required(minutes)``, which sends the browser to that page instead of
   raising: a GET comes back to the same URL, a POST (whose body cannot be replayed) to the
   page the form was on, where the user submits again.
2. **API (bearer token or session)**: the header ``X-Reauth: <password or current TOTP code>``
   on the sensitive request itself. Six digits are checked as a TOTP code when the account has
   TOTP on (passwords are at least 12 characters), anything else as the password. Failures are
   throttled with the login limiter and logged (never the value). A TOTP code is single-use, so
   the caller's transaction must be committed, even when refusing later, to record its step.
   A successful ``X-Reauth`` on a cookie session also refreshes its ``reauth_at``.

Services stay free of the request when the edge passes ``evidence=evidence_from_request()``
(or an ``AuthEvidence`` built by hand in the CLI or a test); when ``evidence`` is omitted
inside a request it is read from the request.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, has_request_context, redirect, request, session, url_for
from flask_babel import gettext as _

from wasteex import security_log
from wasteex.accounts import totp
from wasteex.accounts.models import User
from wasteex.accounts.passwords import verify_password
from wasteex.accounts.session import REAUTH_AT, bearer_secret, mark_reauthenticated, now
from wasteex.errors import DomainError
from wasteex.throttle import keys_for, login_throttle
from wasteex.urls import safe_next

HEADER = "X-Reauth"


class ReauthRequired(DomainError):
    status, code = 401, "reauth_required"
    already_logged = True


class ReauthRefused(DomainError):
    status, code = 401, "reauth_failed"
    already_logged = True


class ReauthThrottled(DomainError):
    status, code = 429, "too_many_attempts"
    already_logged = True


@dataclass(frozen=True)
class AuthEvidence:
    """What the request can show: the session's user and its ``reauth_at``, a proof, the IP."""

    user_id: int | None = None
    reauth_at: float | None = None
    proof: str | None = None
    ip: str | None = None
    session_bound: bool = False  # a cookie session whose reauth_at a proof may refresh


def evidence_from_request() -> AuthEvidence:
    proof = request.headers.get(HEADER) or None
    if bearer_secret():
        return AuthEvidence(proof=proof, ip=request.remote_addr)
    user_id, _sep, _token = str(session.get("_user_id", "")).partition(":")
    reauth_at = session.get(REAUTH_AT)
    return AuthEvidence(
        user_id=int(user_id) if user_id.isdigit() else None,
        reauth_at=reauth_at if isinstance(reauth_at, (int, float)) else None,
        proof=proof, ip=request.remote_addr, session_bound=True,
    )


def max_age_minutes(minutes: int | None = None) -> int:
    return minutes if minutes is not None else current_app.config["REAUTH_MAX_AGE_MINUTES"]


def verify_proof(actor: User, proof: str, ip: str | None) -> None:
    """Check a password or a TOTP code of ``actor`` now (throttled, logged, codes single-use)."""
    from wasteex.accounts import second_factor

    if actor.totp_enabled and totp.looks_like_code(proof):
        try:
            second_factor.verify_code(actor, proof, ip, purpose="reauth")
        except second_factor.TotpThrottled as error:
            raise ReauthThrottled(error.message) from error
        except second_factor.TotpRefused as error:
            security_log.event("reauth.failure", security_log.FAILURE, user=actor, method_used="totp")
            raise ReauthRefused(_("That code is wrong or was already used.")) from error
        security_log.event("reauth.success", user=actor, method_used="totp")
        return
    throttle = login_throttle()
    keys = keys_for(actor.email, ip)
    if throttle.blocked(*keys):
        security_log.event("reauth.failure", security_log.DENIED, user=actor, method_used="password",
                           reason="throttled")
        raise ReauthThrottled(_("Too many failed attempts. Please wait 15 minutes and try again."))
    if not verify_password(actor.password_hash, proof):
        throttle.failed(*keys)
        security_log.event("reauth.failure", security_log.FAILURE, user=actor, method_used="password")
        raise ReauthRefused(_("The password is wrong."))
    security_log.event("reauth.success", user=actor, method_used="password")


def is_recent(actor: User, evidence: AuthEvidence, minutes: int | None = None) -> bool:
    age = now() - evidence.reauth_at if evidence.reauth_at is not None else None
    return (evidence.user_id == actor.id and age is not None
            and 0 <= age <= max_age_minutes(minutes) * 60)


def require_recent_auth(actor: User, minutes: int | None = None, evidence: AuthEvidence | None = None) -> None:
    """Return if ``actor`` authenticated within ``minutes`` or sends a valid proof; else raise."""
    if evidence is None:
        evidence = evidence_from_request() if has_request_context() else AuthEvidence()
    if evidence.proof:
        verify_proof(actor, evidence.proof, evidence.ip)
        if evidence.session_bound and has_request_context():
            mark_reauthenticated()
        return
    if is_recent(actor, evidence, minutes):
        return
    security_log.event("reauth.required", security_log.DENIED, user=actor)
    raise ReauthRequired(_("Please confirm it is you: enter your password or a code from your app."))


def _return_target() -> str:
    if request.method == "GET":
        return safe_next(request.full_path.rstrip("?"))
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return "/"
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return safe_next(path or "/")


def recent_auth_required(minutes: int | None = None):
    """View decorator: sign-in required, and a recent one, else the re-authentication page."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            from flask_login import current_user

            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            try:
                require_recent_auth(current_user._get_current_object(), minutes)
            except ReauthRequired:
                if request.path.startswith("/api/"):
                    raise
                return redirect(url_for("accounts.reauth", next=_return_target()))
            return view(*args, **kwargs)

        return wrapper

    return decorate
