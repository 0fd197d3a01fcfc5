"""The webhook form and the labels of notification kinds and delivery states. Rules live in the services."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

KIND_LABELS = {
    "proposal_received": _l("Proposal received"),
    "slip_to_sign": _l("Slip awaiting my signature"),
    "discrepancy": _l("Discrepancy"),
    "revision_request": _l("Revision request"),
    "slip_overdue": _l("Overdue slip"),
    "webhook_disabled": _l("Webhook disabled"),
}
DELIVERY_STATUS_LABELS = {"pending": _l("Pending"), "delivered": _l("Delivered"), "failed": _l("Given up")}


class WebhookForm(FlaskForm):
    url = StringField(_l("Receiver URL"), description=_l("http:// or https://; WasteEx POSTs signed JSON to it."))
    description = StringField(_l("Description"), description=_l("Optional: what receives it (your ERP, a test)."))
    kinds = SelectMultipleField(_l("Events"), choices=list(KIND_LABELS.items()), validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
