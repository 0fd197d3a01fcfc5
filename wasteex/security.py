"""Request-wide protections: CSRF for cookie sessions, response security headers.

CSRF is checked here rather than globally so that bearer-token API calls (which
a browser never sends on its own) are exempt while cookie-authenticated JSON
calls still need the ``X-CSRFToken`` header.
"""
from __future__ import annotations

import re

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from wasteex import security_log
from wasteex.accounts.session import bearer_secret
from wasteex.extensions import csrf

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# PostgreSQL text cannot hold NUL; no UTF-8 column can hold a lone surrogate (JSON "\ud800").
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def protect_csrf() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.method in SAFE_METHODS or bearer_secret():
        return
    if request.endpoint == "api_auth.TokenView" or request.path == "/api/v1/auth/token":
        return  # credentials in the body, no cookie session is used
    try:
        csrf.protect()
    except CSRFError as error:
        security_log.event("csrf.failure", security_log.DENIED, reason=error.description)
        raise


def _texts(value):
    """Every string in a parsed JSON value, walked without recursion (bodies can nest deeply)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def refuse_unstorable_text():
    """A 400 instead of a database error (a 500) for text no column can store."""
    from wasteex.errors import error_response

    values = [v for values in (*request.args.listvalues(), *request.form.listvalues()) for v in values]
    try:
        if request.is_json and request.content_length:
            values.extend(_texts(request.get_json(silent=True)))
        understood = not any(UNSTORABLE.search(value) for value in values)
    except RecursionError:  # JSON nested too deeply to parse
        understood = False
    if not understood:
        return error_response(400, "bad_request", _("The request could not be understood."))
    return None


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Authenticated pages, and the account pages before sign-in (the TOTP step), are never cached.
    if not request.path.startswith("/static/") and (
            request.path.startswith("/account/") or (current_user and current_user.is_authenticated)):
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    security_log.init_app(app)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(protect_csrf)
    app.before_request(refuse_unstorable_text)
    app.after_request(set_security_headers)
