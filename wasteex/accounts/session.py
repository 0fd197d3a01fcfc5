"""Flask-Login wiring: cookie sessions carry a revocable token, the API also takes bearer tokens.

A cookie session holds, besides Flask-Login's keys, timestamps (seconds since the epoch)
checked on the server at every request by ``load_user``:

- ``auth_at``: sign-in; the session ends ``SESSION_ABSOLUTE_MINUTES`` later whatever happens;
- ``seen_at``: last request; the session ends after ``SESSION_IDLE_MINUTES`` without one;
- ``mfa_at``: when this session passed a TOTP check (sign-in, enrolment); an account with
  TOTP on is never accepted from a session without it;
- ``reauth_at``: the last time the user proved who they are (sign-in, /account/reauth), read
  by ``accounts.reauth.require_recent_auth``.

An expired session is emptied and the user is told so with a flash message. A session whose
account must use TOTP but has not enrolled may only reach the enrolment page (and sign out,
change language) until it has: ``enforce_enrolment`` runs before every request.
"""
from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from sqlalchemy.exc import OperationalError

from wasteex import security_log
from wasteex.extensions import db, login_manager

AUTH_AT, SEEN_AT, MFA_AT, REAUTH_AT = "auth_at", "seen_at", "mfa_at", "reauth_at"
PENDING_TOTP = "pending_totp"
KEPT_ACROSS_SIGN_IN = ("lang",)
# Reachable while enrolment in TOTP is due (everything else redirects to the enrolment page).
ENROLMENT_ENDPOINTS = {"accounts.totp_setup", "accounts.logout", "accounts.set_language", "static"}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_bearer)
    login_manager.unauthorized_handler(unauthorized)
    app.before_request(enforce_enrolment)


def now() -> float:
    return time.time()


def fresh_session() -> None:
    """Empty the session (no fixation across sign-in), keeping only the language choice."""
    kept = {key: session[key] for key in KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    session.update(kept)


def begin(user, *, second_factor: bool) -> None:
    """Sign ``user`` in on a fresh session; ``second_factor`` when a TOTP code was checked."""
    fresh_session()
    login_user(user)
    moment = now()
    session[AUTH_AT] = session[SEEN_AT] = session[REAUTH_AT] = moment
    if second_factor:
        session[MFA_AT] = moment


def mark_second_factor(user) -> None:
    """After enrolment: sign the (rotated) user in again on this session, TOTP passed."""
    login_user(user)
    session[MFA_AT] = session[REAUTH_AT] = session[SEEN_AT] = now()


def mark_reauthenticated() -> None:
    session[REAUTH_AT] = now()


def _expired_reason(moment: float) -> str | None:
    config = current_app.config
    auth_at, seen_at = session.get(AUTH_AT), session.get(SEEN_AT)
    if not isinstance(auth_at, (int, float)) or not isinstance(seen_at, (int, float)):
        return "missing"  # issued before lifetimes were tracked, or tampered with
    if moment - auth_at > config["SESSION_ABSOLUTE_MINUTES"] * 60:
        return "absolute"
    if moment - seen_at > config["SESSION_IDLE_MINUTES"] * 60:
        return "idle"
    return None


def _end_expired(user_id: int | None, reason: str) -> None:
    fresh_session()
    security_log.event("session.expired", security_log.DENIED, user_id=user_id, reason=reason)
    if not request.path.startswith("/api/"):
        flash(str(_l("Your session has expired. Please sign in again.")), "warning")


def load_user(session_id: str):
    """Accept a session only if its token still matches the user's current one, it has not
    expired (idle or absolute lifetime) and, for a TOTP account, it passed TOTP.

    A request with a bearer token is authenticated by that token alone: a cookie
    sent along must not stand in for a bogus token (bearer calls skip CSRF).
    """
    from wasteex.accounts.models import User

    if bearer_secret():
        return None
    user_id, _sep, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    moment = now()
    reason = _expired_reason(moment)
    if reason is None and user.totp_enabled and not session.get(MFA_AT):
        reason = "second_factor_missing"
    if reason is not None:
        _end_expired(user.id, reason)
        return None
    session[SEEN_AT] = moment
    return user


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return secret.strip()
    return None


def load_user_from_bearer(_request):
    from wasteex.accounts.service import user_for_token

    secret = bearer_secret()
    if not secret:
        return None
    user = user_for_token(secret)
    # The token's last use is bookkeeping of its own: commit it here, at the request's
    # edge, so it is kept even when the request only reads (or fails later). On SQLite
    # another worker may hold the write lock (a read turning into a write is refused at
    # once); the request must not fail for that — the next use records the time.
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()
    if user is None:
        security_log.event("token.rejected", security_log.DENIED)
    return user


def enforce_enrolment():
    """Until an account that must use TOTP has enrolled, its session reaches only enrolment."""
    if "_user_id" not in session or bearer_secret() or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    from flask_login import current_user

    from wasteex.accounts.second_factor import enrolment_required

    if not current_user.is_authenticated or current_user.totp_enabled or not enrolment_required(current_user):
        return None
    security_log.event("access.denied", security_log.DENIED, reason="totp_enrolment_due")
    if request.path.startswith("/api/"):
        from wasteex.errors import error_response

        return error_response(403, "second_factor_required",
                              str(_l("Set up two-step verification on your account page first.")))
    from wasteex.urls import safe_next

    target = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
    return redirect(url_for("accounts.totp_setup", next=target))


def unauthorized():
    from wasteex.errors import error_response
    from wasteex.urls import safe_next

    if request.path.startswith("/api/"):
        return error_response(401, "unauthorized", str(_l("Please sign in to continue.")))
    return redirect(url_for("accounts.login", next=safe_next(request.full_path.rstrip("?"))))


def second_factor_passed() -> bool:
    """This cookie session passed a TOTP check (bearer requests never have)."""
    return not bearer_secret() and bool(session.get(MFA_AT))

