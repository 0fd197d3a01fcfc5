"""What every API resource shares: the Api subclass, the error envelope, auth and body guards."""
from __future__ import annotations

from functools import wraps

import marshmallow as ma
from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api



class ErrorBody(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))


class ErrorEnvelope(ma.Schema):
    """``{"error": {"code", "message", "fields"}}``: the shape of every API error."""

    error = ma.fields.Nested(ErrorBody, required=True)


class WasteExApi(Api):
    """flask-smorest with our error envelope; errors are rendered by wasteex.errors."""

    ERROR_SCHEMA = ErrorEnvelope

    def _register_error_handlers(self):  # wasteex.errors owns error rendering
        return None


class StrictSchema(ma.Schema):
    """Unknown fields are refused, so mass assignment of e.g. ``status`` fails loudly."""

    class Meta:
        unknown = ma.RAISE


def guard_json_body():
    """Refuse oversized or non-JSON bodies before any view parses them (4xx, never 500)."""
    from wasteex.errors import error_response  # errors imports extensions, which imports us

    if not request.path.startswith("/api/") or request.method in {"GET", "HEAD", "OPTIONS", "DELETE"}:
        return None
    limit = current_app.config["API_MAX_JSON_BYTES"]
    request.max_content_length = limit  # also bounds chunked bodies, which have no Content-Length
    if request.content_length is not None and request.content_length > limit:
        return error_response(413, "payload_too_large", _("The request body is too large."))
    if request.content_length and not request.is_json:
        return error_response(415, "unsupported_media_type", _("Send the body as application/json."))
    if request.content_length:
        try:
            request.get_json(silent=True)  # silent covers bad syntax, not deep nesting
        except RecursionError:
            return error_response(400, "bad_request", _("The request could not be understood."))
    return None


def login_required_api(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapper


SECURITY = [{"bearer": []}, {"session": []}]
