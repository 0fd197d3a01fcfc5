"""Flask-Login wiring: cookie sessions carry a revocable token, the API also takes bearer tokens."""
from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l

from wasteex.extensions import db, login_manager


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_bearer)
    login_manager.unauthorized_handler(unauthorized)


def load_user(session_id: str):
    """Accept a session only if its token still matches the user's current one.

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
    # edge, so it is kept even when the request only reads (or fails later).
    db.session.commit()
    return user


def unauthorized():
    from flask import redirect, url_for

    from wasteex.errors import error_response
    from wasteex.urls import safe_next

    if request.path.startswith("/api/"):
        return error_response(401, "unauthorized", str(_l("Please sign in to continue.")))
    return redirect(url_for("accounts.login", next=safe_next(request.full_path.rstrip("?"))))
