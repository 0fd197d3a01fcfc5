"""Domain errors and the one place where every error becomes a response.

Services raise ``DomainError`` subclasses; the handlers here roll the session
back and answer either an HTML page or, under ``/api/``, the JSON envelope
``{"error": {"code", "message", "fields"}}``.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from wasteex.extensions import db

log = logging.getLogger("wasteex.errors")


class DomainError(Exception):
    """Base of the errors a service raises on purpose."""

    status = 400
    code = "domain_error"
    already_logged = False  # True when the raiser wrote its own security-log line

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(DomainError):
    status, code = 404, "not_found"


class PermissionDenied(DomainError):
    status, code = 403, "forbidden"


class ValidationFailed(DomainError):
    status, code = 422, "validation_failed"

    @classmethod
    def on(cls, field: str, message: str) -> "ValidationFailed":
        return cls(message, {field: [message]})


class InvalidTransition(DomainError):
    status, code = 409, "invalid_transition"


class Conflict(DomainError):
    status, code = 409, "conflict"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return make_response(jsonify(body), status)
    page = render_template("errors/error.html", status=status, message=message)
    return make_response(page, status)


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def _log_security_event(exc: DomainError) -> None:
    from wasteex import security_log

    if exc.already_logged:
        return
    if isinstance(exc, (PermissionDenied, NotFound)):
        security_log.event("access.denied", security_log.DENIED, status=exc.status, error=exc.code)
    elif isinstance(exc, ValidationFailed):
        security_log.event("validation.failure", security_log.FAILURE, status=exc.status, error=exc.code,
                           fields=sorted(exc.fields))


def _log_http_event(exc: HTTPException, fields: dict) -> None:
    from wasteex import security_log

    if exc.code == 403:
        security_log.event("access.denied", security_log.DENIED, status=403, error=_http_code(exc))
    elif exc.code in (400, 422) and fields:  # schema validation of API bodies and queries
        security_log.event("validation.failure", security_log.FAILURE, status=exc.code,
                           error=_http_code(exc), fields=sorted(fields))


def handle_domain_error(exc: DomainError):
    db.session.rollback()
    _log_security_event(exc)
    return error_response(exc.status, exc.code, exc.message, exc.fields)


def handle_http_exception(exc: HTTPException):
    db.session.rollback()
    fields = {}
    # flask-smorest / webargs put per-field messages in exc.data["messages"].
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if isinstance(messages, dict):
        for location_messages in messages.values():
            if isinstance(location_messages, dict):
                fields.update(flatten_messages(location_messages))
    _log_http_event(exc, fields)
    message = _friendly_http_message(exc)
    response = error_response(exc.code or 500, _http_code(exc), message, fields)
    valid_methods = getattr(exc, "valid_methods", None)
    if valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    return response


def flatten_messages(messages: dict) -> dict[str, list[str]]:
    """Per top-level field, a list of strings, as the envelope documents ``fields``.

    A nested schema, list or dict field reports ``{"lines": {0: {"tonnes": [...]}}}``; that
    becomes ``{"lines": ["0.tonnes: ..."]}`` (the field stays named, the path goes in the text).
    """
    return {str(key): _messages(value) for key, value in messages.items()}


def _messages(value, path: str = "") -> list[str]:
    if isinstance(value, dict):
        return [m for key, inner in value.items() for m in _messages(inner, f"{path}{key}.")]
    items = value if isinstance(value, list | tuple) else [value]
    prefix = f"{path[:-1]}: " if path else ""
    return [m for item in items for m in
            (_messages(item, path) if isinstance(item, dict) else [f"{prefix}{item}"])]


def _friendly_http_message(exc: HTTPException) -> str:
    known = {
        400: _("The request could not be understood."),
        401: _("Please sign in to continue."),
        403: _("You are not allowed to do that."),
        404: _("The page or object you asked for does not exist."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
        422: _("Some fields are not valid."),
        429: _("Too many attempts. Please wait and try again."),
    }
    return known.get(exc.code or 500, exc.description or _("Something went wrong."))


def handle_unexpected(exc: Exception):
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", _("Something went wrong on our side."))


def register_errorhandlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
