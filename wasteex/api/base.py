"""What every API resource shares: the Api subclass, the error envelope, auth and body guards."""
from __future__ import annotations

from decimal import Decimal
from functools import wraps

import marshmallow as ma
from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api
from marshmallow import validate
from werkzeug.routing import IntegerConverter

# The largest id a row can have (PostgreSQL INTEGER). A larger number in a path, body or
# query is refused before it reaches the database: SQLite raises OverflowError past 2**63
# and PostgreSQL "integer out of range", both 500s.
ID_MAX = 2**31 - 1


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


class IdConverter(IntegerConverter):
    """``<id:name>`` in API routes: 1 … ID_MAX, anything else is a 404 (and documented so)."""

    def __init__(self, map, min=1, max=ID_MAX):  # noqa: A002 - werkzeug's argument names
        super().__init__(map, min=min, max=max)


def Id(*, strict: bool = True, **kwargs) -> ma.fields.Integer:  # noqa: N802 - reads like a field class
    """A row id within 1 … ID_MAX; in a JSON body an integer (not "5", not 5.0): pass
    ``strict=False`` for a query string, where every value is text."""
    return ma.fields.Integer(strict=strict, validate=validate.Range(min=1, max=ID_MAX), **kwargs)


class StrictBoolean(ma.fields.Boolean):
    """A JSON ``true``/``false`` only: marshmallow's Boolean also takes 0, 1, "yes", "on" …,
    which the OpenAPI document (``type: boolean``) says are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Quantity(ma.fields.Decimal):
    """An exact Decimal in (from a JSON number or a decimal string), documented as a number.

    apispec writes a ``Range``'s bounds through the field's own serialisation; a plain
    Decimal field writes them as strings (``"maximum": "1000000000"``), which makes the
    OpenAPI document invalid. Input schemas only.
    """

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)


def null_means_null(self, field, ret, **kwargs) -> dict:
    """An apispec attribute function: a nullable nested schema accepts null, not any object.

    For OpenAPI 3.0 apispec writes ``Nested(..., allow_none=True)`` as
    ``anyOf: [{type: object, nullable: true}, {$ref: …}]``, whose first branch admits every
    object (``{}`` included), so the document promised more than the schema accepts.
    """
    for branch in ret.get("anyOf", []):
        if branch == {"type": "object", "nullable": True}:
            branch["enum"] = [None]
    return {}


def decimal_strings_are_strings(self, field, ret, **kwargs) -> dict:
    """An apispec attribute function: ``Decimal(as_string=True)`` is written ``"-35.00"``,
    so document it as a string (apispec says ``type: number``, and every response broke it)."""
    if isinstance(field, ma.fields.Decimal) and field.as_string:
        return {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}
    return {}


class StrictSchema(ma.Schema):
    """Unknown fields are refused, so mass assignment of e.g. ``status`` fails loudly."""

    class Meta:
        unknown = ma.RAISE


BODY_METHODS = {"POST", "PUT", "PATCH"}
PUBLIC_WRITES = {"api_auth.TokenView"}  # credentials in the body


def refuse_anonymous_writes():
    """An API write with no credentials at all is a 401, before the CSRF check calls it a 400.

    Only for requests that reach a view (an unknown path stays a 404, a wrong method a 405).
    """
    if (not request.path.startswith("/api/") or request.method not in {*BODY_METHODS, "DELETE"}
            or request.endpoint is None or request.endpoint in PUBLIC_WRITES):
        return None
    from flask import session

    from wasteex.accounts.session import bearer_secret  # accounts imports extensions, which imports us

    if bearer_secret() or "_user_id" in session:
        return None  # credentials to check: login_required_api (after CSRF for a cookie) decides
    return current_app.login_manager.unauthorized()


def _declares_json_body() -> bool:
    """The view this request reaches reads a JSON body (``@blp.arguments`` in ``json``)."""
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), view) if view_class else view
    parameters = getattr(method, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") == "json" and p.get("required", True) for p in parameters)


def guard_json_body():
    """Refuse oversized, non-JSON or missing bodies before any view parses them (4xx, never 500)."""
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
    elif (request.method in BODY_METHODS and request.endpoint is not None
          and "chunked" not in request.headers.get("Transfer-Encoding", "").lower() and _declares_json_body()):
        # Without this, webargs reads a missing body as {}: a PATCH without a body answered 200.
        return error_response(400, "bad_request", _("Send the body as application/json."))
    return None


def login_required_api(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapper


SECURITY = [{"bearer": []}, {"session": []}]
