"""Lifecycle pages: the timeline of a slip, an agreement, a waste stream or an enterprise."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from sqlalchemy import select

from wasteex.agreements.service import get_agreement
from wasteex.catalog.models import Route
from wasteex.enterprises.models import Enterprise
from wasteex.extensions import db
from wasteex.ledger.rates import kg_to_tonnes_str
from wasteex.streams.forms import local_name
from wasteex.streams.models import WasteStream
from wasteex.transfers import lifecycle
from wasteex.transfers.forms import ACCEPTANCE_LABELS, REVISION_FIELD_LABELS, REVISION_STATUS_LABELS
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

# What an event's details are called on the page; keys not listed are not shown.
DETAIL_LABELS = {
    "planned_kg": _l("Planned tonnes"), "generated_kg": _l("Generated"), "entries": _l("Ledger entries"),
    "dispatched_kg": _l("Dispatched tonnes (weighbridge)"), "dispatched_on": _l("Dispatch date"),
    "leg": _l("Carrier leg"), "plates": _l("Plate numbers"), "driver": _l("Driver"),
    "taken_over_on": _l("Taken over on"), "received_kg": _l("Received tonnes (weighbridge)"),
    "refused_kg": _l("Refused tonnes"), "acceptance": _l("Acceptance"), "refusal_reason": _l("Refusal reason"),
    "received_on": _l("Reception date"), "discrepancy_kg": _l("Weight difference beyond the tolerance"),
    "legs_unsigned": _l("Carrier legs left unsigned"), "route": _l("Route applied"),
    "operated_on": _l("Operation date"), "product": _l("Product"), "handler": _l("Handler"),
    "cancel": _l("Cancellation"), "changes": _l("Changes"), "reason": _l("Reason"), "status": _l("Answer"),
    "note": _l("Note"),
}


@bp.app_template_global()
def event_rows(event: lifecycle.Event) -> list[tuple[str, str]]:
    """(label, text) for the details worth reading: tonnes as tonnes, codes as names, empty ones left out."""
    rows = []
    for key, label in DETAIL_LABELS.items():
        value = event.details.get(key)
        if value is None or (value in ("", 0, False, {}, []) and key != "refused_kg"):
            continue
        rows.append((str(label), _detail_text(key, value)))
    return rows


def _detail_text(key: str, value) -> str:
    if key.endswith("_kg"):
        return f"{kg_to_tonnes_str(int(value))} t"
    if key == "plates":
        return "、".join(value)
    if key == "acceptance":
        return str(ACCEPTANCE_LABELS.get(value, value))
    if key == "status":
        return str(REVISION_STATUS_LABELS.get(value, value))
    if key == "route":
        route = db.session.scalar(select(Route).where(Route.key == value))
        return local_name(route) if route else value
    if key == "changes":
        return "；".join(f"{REVISION_FIELD_LABELS.get(k, k)}: {old} → {new}" for k, (old, new) in sorted(value.items()))
    if key == "cancel":
        return str(_l("Cancel the slip"))
    return str(value)


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
