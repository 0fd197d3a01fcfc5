"""The caller's inbox, and an enterprise's webhooks (its admins manage them; read-all accounts read them).

Webhook calls are signed: ``X-WasteEx-Signature: t=<unix seconds>,v1=<hex>``
with ``hex = HMAC-SHA256(secret, "<t>.<body>")``. The secret is in the answer
to the POST that creates the webhook (or makes a new secret), never again.
"""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from wasteex.api.base import SECURITY, StrictBoolean, StrictSchema, login_required_api
from wasteex.api.schemas import page_schema
from wasteex.extensions import db
from wasteex.notifications import service, subscriptions
from wasteex.notifications.models import NotificationKind

PREFIX = ""
blp = Blueprint("api_notifications", __name__,
                description="Your inbox and your enterprises' webhooks (signed calls: X-WasteEx-Signature)")
KINDS = [kind.value for kind in NotificationKind]


class NotificationOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.Function(lambda n: n.kind.value, metadata={"enum": KINDS})
    enterprise_id = ma.fields.Integer(allow_none=True)
    subject = ma.fields.Function(lambda n: service.message_text(n.subject, n.payload),
                                 metadata={"description": "In the caller's language"})
    body = ma.fields.Function(lambda n: service.message_text(n.body, n.payload))
    url = ma.fields.String(metadata={"description": "A path inside WasteEx"})
    payload = ma.fields.Dict()
    read = ma.fields.Function(lambda n: n.is_read)
    read_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


NotificationPage = page_schema(NotificationOut, "NotificationPage")


class InboxQuery(StrictSchema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "Only the unread ones"})
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ReadAllOut(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "How many were unread"})


class WebhookOut(ma.Schema):
    id = ma.fields.Integer()
    enterprise_id = ma.fields.Integer()
    url = ma.fields.String()
    description = ma.fields.String()
    kinds = ma.fields.List(ma.fields.String(validate=validate.OneOf(KINDS)))
    active = ma.fields.Boolean()
    consecutive_failures = ma.fields.Integer()
    disabled_at = ma.fields.DateTime(allow_none=True)
    disabled_reason = ma.fields.String()
    secret_hint = ma.fields.String(metadata={"description": "The secret's first characters"})
    created_at = ma.fields.DateTime()


class WebhookCreated(WebhookOut):
    secret = ma.fields.String(metadata={"description": "Shown this once: keep it to check signatures"})


def _with_secret(hook, secret: str) -> dict:
    return {name: getattr(hook, name) for name in WebhookOut._declared_fields} | {"secret": secret}


class WebhookIn(StrictSchema):
    url = ma.fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "http(s); private and loopback addresses are refused"})
    kinds = ma.fields.List(ma.fields.String(validate=validate.OneOf(KINDS)), required=True,
                           validate=validate.Length(min=1))
    description = ma.fields.String(load_default="", validate=validate.Length(max=120))


class WebhookPatch(StrictSchema):
    url = ma.fields.String(validate=validate.Length(min=1, max=500))
    kinds = ma.fields.List(ma.fields.String(validate=validate.OneOf(KINDS)), validate=validate.Length(min=1))
    description = ma.fields.String(validate=validate.Length(max=120))
    active = StrictBoolean(metadata={"description": "true re-enables a disabled webhook (it cannot be set false)"})


class DeliveryOut(ma.Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.String()
    kind = ma.fields.Function(lambda d: d.kind.value, metadata={"enum": KINDS})
    status = ma.fields.Function(lambda d: d.status.value, metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.DateTime()
    last_attempt_at = ma.fields.DateTime(allow_none=True)
    last_status = ma.fields.Integer(allow_none=True, metadata={"description": "HTTP status of the last answer"})
    last_error = ma.fields.String()
    delivered_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


# The inbox ------------------------------------------------------------------------

@blp.route("/inbox")
class Inbox(MethodView):
    decorators = [login_required_api]

    @blp.arguments(InboxQuery, location="query")
    @blp.response(200, NotificationPage)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Your own notifications, newest first (everyone's inbox is personal, regulators' too)."""
        return service.inbox(current_user, unread_only=args["unread"], page=args["page"], per_page=args["per_page"])


@blp.route("/inbox/<id:notification_id>/read")
class InboxRead(MethodView):
    decorators = [login_required_api]

    @blp.response(200, NotificationOut)
    @blp.doc(security=SECURITY)
    def post(self, notification_id):
        """Mark one of your notifications read (someone else's is a 404)."""
        note = service.mark_read(current_user, notification_id)
        db.session.commit()
        return note


@blp.route("/inbox/read-all")
class InboxReadAll(MethodView):
    decorators = [login_required_api]

    @blp.response(200, ReadAllOut)
    @blp.doc(security=SECURITY)
    def post(self):
        """Mark all your notifications read."""
        marked = service.mark_all_read(current_user)
        db.session.commit()
        return {"marked": marked}


# Webhooks -------------------------------------------------------------------------

@blp.route("/enterprises/<id:enterprise_id>/webhooks")
class WebhookList(MethodView):
    decorators = [login_required_api]

    @blp.response(200, WebhookOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self, enterprise_id):
        """The enterprise's webhooks (its admins, regulators and platform admins)."""
        return subscriptions.webhooks_of(current_user, enterprise_id)

    @blp.arguments(WebhookIn)
    @blp.response(201, WebhookCreated)
    @blp.doc(security=SECURITY)
    def post(self, body, enterprise_id):
        """Add a webhook (the enterprise's admins); the answer carries its secret, this once."""
        hook, secret = subscriptions.create_webhook(current_user, enterprise_id, body)
        db.session.commit()
        return _with_secret(hook, secret)


@blp.route("/enterprises/<id:enterprise_id>/webhooks/<id:webhook_id>")
class WebhookItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, WebhookOut)
    @blp.doc(security=SECURITY)
    def get(self, enterprise_id, webhook_id):
        """One webhook, with its state (disabled after repeated failures?)."""
        return subscriptions.get_webhook(current_user, webhook_id, enterprise_id)

    @blp.arguments(WebhookPatch)
    @blp.response(200, WebhookOut)
    @blp.doc(security=SECURITY)
    def patch(self, body, enterprise_id, webhook_id):
        """Change the URL, events or description; ``"active": true`` enables a disabled webhook again."""
        hook = subscriptions.update_webhook(current_user, webhook_id, body, enterprise_id)
        db.session.commit()
        return hook

    @blp.response(204)
    @blp.doc(security=SECURITY)
    def delete(self, enterprise_id, webhook_id):
        """Delete the webhook and its delivery log."""
        subscriptions.delete_webhook(current_user, webhook_id, enterprise_id)
        db.session.commit()


@blp.route("/enterprises/<id:enterprise_id>/webhooks/<id:webhook_id>/secret")
class WebhookSecret(MethodView):
    decorators = [login_required_api]

    @blp.response(201, WebhookCreated)
    @blp.doc(security=SECURITY)
    def post(self, enterprise_id, webhook_id):
        """Make a new signing secret (the old one stops at once); the answer carries it, this once."""
        hook, secret = subscriptions.new_secret(current_user, webhook_id, enterprise_id)
        db.session.commit()
        return _with_secret(hook, secret)


@blp.route("/enterprises/<id:enterprise_id>/webhooks/<id:webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    decorators = [login_required_api]

    @blp.response(200, DeliveryOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self, enterprise_id, webhook_id):
        """The webhook's delivery log: the latest 50 deliveries, newest first."""
        return subscriptions.deliveries_of(current_user, webhook_id, enterprise_id)
