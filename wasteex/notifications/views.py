"""The inbox (every signed-in user's own) and an enterprise's webhook pages.

Views validate, call the service, commit once and redirect. A new webhook's
secret is rendered in the answer to the POST that made it, never stored in
the session or a flash message.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from wasteex.enterprises import service as enterprises
from wasteex.errors import Conflict, ValidationFailed
from wasteex.extensions import db
from wasteex.forms_support import form_data, page_arg, perform
from wasteex.market.forms import ActionForm
from wasteex.notifications import service, subscriptions, webhooks
from wasteex.notifications.forms import DELIVERY_STATUS_LABELS, KIND_LABELS, WebhookForm

bp = Blueprint("notifications", __name__)
bp.add_app_template_global(KIND_LABELS, "notification_kind_labels")
bp.add_app_template_global(DELIVERY_STATUS_LABELS, "delivery_status_labels")
bp.add_app_template_filter(lambda note: service.message_text(note.subject, note.payload), "notification_subject")
bp.add_app_template_filter(lambda note: service.message_text(note.body, note.payload), "notification_body")


@bp.app_template_global()
def unread_notifications() -> int:
    """The nav bar's badge: one indexed COUNT, only for a signed-in user."""
    return service.unread_count(current_user) if current_user.is_authenticated else 0


@bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user."""


# The inbox ------------------------------------------------------------------------

@bp.get("/inbox")
def inbox():
    unread = request.args.get("unread") == "1"
    page = service.inbox(current_user, unread_only=unread, page=page_arg(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("notifications/inbox.html", page=page, unread=unread, form=ActionForm(),
                           admin_of=subscriptions.managed_by(current_user))


@bp.get("/inbox/<int:notification_id>")
def open_notification(notification_id: int):
    """Follow a notification's link; opening it marks it read."""
    note = service.mark_read(current_user, notification_id)
    db.session.commit()
    return redirect(note.url)


@bp.post("/inbox/<int:notification_id>/read")
def read(notification_id: int):
    if ActionForm().validate_on_submit():
        service.mark_read(current_user, notification_id)
        db.session.commit()
    return redirect(url_for(".inbox", unread=request.args.get("unread")))


@bp.post("/inbox/read-all")
def read_all():
    if ActionForm().validate_on_submit():
        marked = service.mark_all_read(current_user)
        db.session.commit()
        flash(_("%(n)s notifications marked read.", n=marked), "success")
    return redirect(url_for(".inbox"))


# Webhooks -------------------------------------------------------------------------

def _webhooks_page(enterprise_id: int, form: WebhookForm, status: int = 200):
    enterprise = enterprises.get_enterprise(current_user, enterprise_id)
    hooks = subscriptions.webhooks_of(current_user, enterprise.id)
    return render_template("notifications/webhooks.html", enterprise=enterprise, hooks=hooks, form=form,
                           can_manage=subscriptions.can_manage(current_user, enterprise.id),
                           header=webhooks.SIGNATURE_HEADER), status


@bp.get("/enterprises/<int:enterprise_id>/webhooks")
def webhooks_page(enterprise_id: int):
    form = WebhookForm()
    form.kinds.data = list(KIND_LABELS)
    return _webhooks_page(enterprise_id, form)


@bp.post("/enterprises/<int:enterprise_id>/webhooks")
def create_webhook(enterprise_id: int):
    form = WebhookForm()
    created = perform(form, lambda: subscriptions.create_webhook(current_user, enterprise_id, form_data(form)),
                      _("Webhook created."))
    if not created:
        return _webhooks_page(enterprise_id, form, 422)
    hook, secret = created
    return render_template("notifications/webhook_secret.html", hook=hook, secret=secret,
                           header=webhooks.SIGNATURE_HEADER)


def _webhook_page(webhook_id: int, form: WebhookForm | None = None, status: int = 200):
    hook = subscriptions.get_webhook(current_user, webhook_id)
    if form is None:
        form = WebhookForm(obj=hook)
    return render_template("notifications/webhook.html", hook=hook, form=form, action=ActionForm(),
                           deliveries=subscriptions.deliveries_of(current_user, hook.id),
                           can_manage=subscriptions.can_manage(current_user, hook.enterprise_id),
                           header=webhooks.SIGNATURE_HEADER), status


@bp.get("/webhooks/<int:webhook_id>")
def webhook(webhook_id: int):
    return _webhook_page(webhook_id)


@bp.post("/webhooks/<int:webhook_id>/edit")
def edit_webhook(webhook_id: int):
    form = WebhookForm()
    if perform(form, lambda: subscriptions.update_webhook(current_user, webhook_id, form_data(form)),
               _("Webhook saved.")):
        return redirect(url_for(".webhook", webhook_id=webhook_id))
    return _webhook_page(webhook_id, form, 422)


def _act(webhook_id: int, action, success: str):
    """An action button on the webhook page: True (or the action's result) when done; a refusal
    comes back as a message on the page and None."""
    form = ActionForm()
    if form.validate_on_submit():
        try:
            result = action()
        except (ValidationFailed, Conflict) as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for(".webhook", webhook_id=webhook_id))
        db.session.commit()
        flash(success, "success")
        return True if result is None else result
    return None


@bp.post("/webhooks/<int:webhook_id>/enable")
def enable_webhook(webhook_id: int):
    _act(webhook_id, lambda: subscriptions.enable_webhook(current_user, webhook_id),
         _("Webhook enabled; its waiting deliveries are sent now."))
    return redirect(url_for(".webhook", webhook_id=webhook_id))


@bp.post("/webhooks/<int:webhook_id>/secret")
def new_secret(webhook_id: int):
    done = _act(webhook_id, lambda: subscriptions.new_secret(current_user, webhook_id),
                _("New secret made; the old one no longer signs."))
    if not isinstance(done, tuple):
        return redirect(url_for(".webhook", webhook_id=webhook_id))
    hook, secret = done
    return render_template("notifications/webhook_secret.html", hook=hook, secret=secret,
                           header=webhooks.SIGNATURE_HEADER)


@bp.post("/webhooks/<int:webhook_id>/delete")
def delete_webhook(webhook_id: int):
    hook = subscriptions.get_webhook(current_user, webhook_id)
    enterprise_id = hook.enterprise_id
    if _act(webhook_id, lambda: subscriptions.delete_webhook(current_user, webhook_id), _("Webhook deleted.")):
        return redirect(url_for(".webhooks_page", enterprise_id=enterprise_id))
    return redirect(url_for(".webhook", webhook_id=webhook_id))
