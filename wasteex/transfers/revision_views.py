"""Revision pages: ask the counterparty to correct or cancel a published slip, and answer such a request.

The request page offers only the fields revisable at the slip's current step,
pre-filled with the slip's values, and sends only those the user changed; the
service re-checks everything (and the counterparty's approval applies it).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from wasteex.accounts.permissions import can_write_enterprise
from wasteex.forms_support import perform
from wasteex.transfers import revisions, service
from wasteex.transfers.forms import RevisionDecisionForm, RevisionForm
from wasteex.transfers.models import TransferSlip

bp = Blueprint("slip_revisions", __name__)


def revisable_fields(slip: TransferSlip) -> dict[str, str]:
    """field → the slip's current value, for the fields revisable now."""
    return {name: read(slip) for name, (allowed, read) in revisions.REVISABLE.items() if slip.status in allowed}


@bp.app_template_global()
def may_request_revision(slip: TransferSlip) -> bool:
    return (bool(revisable_fields(slip)) and revisions.pending(slip) is None
            and any(can_write_enterprise(current_user, e) for e in (slip.producer_id, slip.receiver_id)))


@bp.app_template_global()
def revision_to_answer(slip: TransferSlip):
    """The pending request the current user may approve or reject, with its form, or None."""
    pending = revisions.pending(slip)
    if pending is None or not can_write_enterprise(current_user, pending.approver_enterprise_id):
        return None
    return pending, RevisionDecisionForm(formdata=None)


@bp.route("/transfers/<int:slip_id>/revise", methods=["GET", "POST"])
@login_required
def revise(slip_id: int):
    slip = service.get_slip(current_user, slip_id)
    current = revisable_fields(slip)
    form = RevisionForm(data=current).keep_only(set(current))
    if form.is_submitted():
        changes = {name: getattr(form, name).data for name in current if getattr(form, name).data != current[name]}
        data = {"reason": form.reason.data, "cancel": form.cancel.data, "changes": changes}
        if perform(form, lambda: revisions.request(current_user, slip.id, data),
                   _("Revision requested: the other party will approve or reject it.")):
            return redirect(url_for("transfers.slip", slip_id=slip.id))
    return render_template("transfers/revise.html", slip=slip, form=form), 422 if form.is_submitted() else 200


@bp.post("/transfers/revisions/<int:revision_id>/answer")
@login_required
def answer(revision_id: int):
    revision = revisions.get_revision(current_user, revision_id)
    form = RevisionDecisionForm()
    approve = request.form.get("decision") == "approve"
    done = perform(form, lambda: revisions.decide(current_user, revision.id, approve, form.note.data or ""),
                   _("Revision approved: the slip shows the new values.") if approve else _("Revision rejected."))
    if not done:
        for message in [*form.form_errors, *form.note.errors]:
            flash(message, "danger")
    return redirect(url_for("transfers.slip", slip_id=revision.slip_id))
