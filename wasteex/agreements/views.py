"""Proposals (answer, propose directly) and agreements: the pages of both parties.

Views validate, call the service, commit once (``perform``) and redirect.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from wasteex.agreements import service
from wasteex.agreements.forms import (
    AGREEMENT_STATUS_LABELS,
    ALTERNATIVE_LABELS,
    DECISION_LABELS,
    PROPOSAL_STATUS_LABELS,
    AcceptForm,
    DeclineForm,
    ProposeForm,
)
from wasteex.agreements.models import ProposalStatus, Side
from wasteex.catalog import service as catalog
from wasteex.forms_support import perform
from wasteex.market import recommend, service as market
from wasteex.matching.runs import transport_rate
from wasteex.streams.forms import local_name

bp = Blueprint("agreements", __name__)
bp.add_app_template_global(DECISION_LABELS, "decision_labels")
bp.add_app_template_global(PROPOSAL_STATUS_LABELS, "proposal_status_labels")
bp.add_app_template_global(AGREEMENT_STATUS_LABELS, "agreement_status_labels")
bp.add_app_template_global(ALTERNATIVE_LABELS, "alternative_labels")
bp.add_app_template_global(Side, "sides")


@bp.app_template_global()
def attribute_name(key: str) -> str:
    attribute = next((a for a in catalog.attributes() if a.key == key), None)
    return local_name(attribute) if attribute else key


@bp.app_template_global()
def why_not(reason: str, demand) -> str:
    """The matcher's reason (stored in English) in the reader's language."""
    return recommend.explain(reason.removeprefix("not compatible: "), demand)


@bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user."""


@bp.get("/proposals")
def proposals():
    wanted = request.args.get("status", "pending")
    status = None if wanted == "all" else ProposalStatus(wanted) if wanted in PROPOSAL_STATUS_LABELS else None
    return render_template("agreements/proposals.html", proposals=service.proposals_for(current_user, status=status),
                           wanted=wanted if status or wanted == "all" else "all", side_of=service.side_of)


def _proposal_page(proposal_id: int, decline_form: DeclineForm | None = None, status: int = 200):
    proposal = service.get_proposal(current_user, proposal_id)
    return render_template("agreements/proposal.html", proposal=proposal, side=service.side_of(current_user, proposal),
                           accept_form=AcceptForm(), decline_form=decline_form or DeclineForm()), status


@bp.get("/proposals/<int:proposal_id>")
def proposal(proposal_id: int):
    return _proposal_page(proposal_id)


@bp.post("/proposals/<int:proposal_id>/accept")
def accept(proposal_id: int):
    form = AcceptForm()
    done = perform(form, lambda: service.decide(current_user, proposal_id, accept=True), _("Accepted."))
    if not done:
        return _proposal_page(proposal_id, status=409 if form.form_errors else 400)
    return redirect(url_for(".proposal", proposal_id=proposal_id))


@bp.post("/proposals/<int:proposal_id>/decline")
def decline(proposal_id: int):
    form = DeclineForm()
    if perform(form, lambda: service.decide(current_user, proposal_id, accept=False, reason=form.reason.data),
               _("Declined.")):
        return redirect(url_for(".proposal", proposal_id=proposal_id))
    return _proposal_page(proposal_id, form, 422)


@bp.route("/market/<any(offers, demands):kind>/<int:listing_id>/propose", methods=["GET", "POST"])
def propose(kind: str, listing_id: int):
    """Propose terms for this listing with one of my own open listings of the other kind."""
    listing = (market.get_offer if kind == "offers" else market.get_demand)(current_user, listing_id)
    mine = service.counterparts_for(current_user, listing)
    form = ProposeForm()
    form.counterpart.choices = [(str(x.id), f"{x.title} · {x.enterprise.name}") for x in mine]
    if not mine:
        abort(404)

    def send():
        pair = {"offer_id": listing.id, "demand_id": form.counterpart.data} if kind == "offers" else \
            {"offer_id": form.counterpart.data, "demand_id": listing.id}
        data = {**pair, "tonnes": form.tonnes.data, "price_per_t": form.price_per_t.data,
                "period_start": form.period_start.data, "period_end": form.period_end.data}
        return service.propose(current_user, data, transport_rate())

    created = perform(form, send, _("Proposal sent; it becomes an agreement when the other side accepts."))
    if created:
        return redirect(url_for(".proposal", proposal_id=created.id))
    return render_template("agreements/propose.html", form=form, listing=listing, kind=kind), \
        422 if request.method == "POST" else 200


@bp.get("/agreements")
def agreements():
    return render_template("agreements/agreements.html", agreements=service.agreements_for(current_user))


@bp.get("/agreements/<int:agreement_id>")
def agreement(agreement_id: int):
    return render_template("agreements/agreement.html", agreement=service.get_agreement(current_user, agreement_id))
