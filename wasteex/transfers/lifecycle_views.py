"""Lifecycle pages: the timeline of a slip, an agreement, a waste stream or an enterprise."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from wasteex.agreements.service import get_agreement
from wasteex.enterprises.models import Enterprise
from wasteex.extensions import db
from wasteex.streams.models import WasteStream
from wasteex.transfers import lifecycle
from wasteex.transfers.service import get_slip

bp = Blueprint("lifecycle", __name__, url_prefix="/lifecycle")

STAGE_LABELS = {
    "generation": _l("Generated"),
    "created": _l("Slip written"),
    "published": _l("Slip published"),
    "emission": _l("Emission signed (dispatched)"),
    "transport": _l("Transport signed (carrier took over)"),
    "reception": _l("Reception signed"),
    "operation": _l("Operation signed (utilised or disposed)"),
    "revision": _l("Revision request"),
}
bp.add_app_template_global(STAGE_LABELS, "stage_labels")


@bp.before_request
@login_required
def require_login():
    """Every lifecycle page needs a signed-in user; the services decide what each may read."""


def _page(subject: str, events):
    return render_template("lifecycle/timeline.html", subject=subject, events=events)


@bp.route("/slip/<int:slip_id>")
def slip(slip_id: int):
    return _page(get_slip(current_user, slip_id).number, lifecycle.of_slip(current_user, slip_id))


@bp.route("/agreement/<int:agreement_id>")
def agreement(agreement_id: int):
    subject = get_agreement(current_user, agreement_id).contract_no
    return _page(subject, lifecycle.of_agreement(current_user, agreement_id))


@bp.route("/stream/<int:stream_id>")
def stream(stream_id: int):
    events = lifecycle.of_stream(current_user, stream_id)
    return _page(db.session.get(WasteStream, stream_id).name, events)


@bp.route("/enterprise/<int:enterprise_id>")
def enterprise(enterprise_id: int):
    events = lifecycle.of_enterprise(current_user, enterprise_id)
    return _page(db.session.get(Enterprise, enterprise_id).name, events)
