"""Matcher runs, proposals and agreements.

Runs: platform admins and regulators start and read them. Proposals: both
parties (and read-all accounts) read them; each party answers with one
``decision`` call; a party may also propose directly. Agreements are read
only: they are made by the second acceptance, never posted.
"""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from wasteex.agreements import service
from wasteex.agreements.models import ProposalStatus
from wasteex.api.base import SECURITY, Id, Quantity, StrictSchema, login_required_api
from wasteex.extensions import db
from wasteex.matching import jobs, runs

PREFIX = ""
blp = Blueprint("api_exchange", __name__, description="Matcher runs, proposals (撮合建议) and agreements (委托利用协议)")


def _tonnes(kg: int) -> float:
    return kg / 1000


class RunOut(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.Function(lambda r: r.status.value)
    progress = ma.fields.Integer()
    stage = ma.fields.String()
    error = ma.fields.String()
    offers = ma.fields.Integer()
    demands = ma.fields.Integer()
    matched_kg = ma.fields.Integer()
    matched_tonnes = ma.fields.Function(lambda r: _tonnes(r.matched_kg))
    tonne_km = ma.fields.Decimal(as_string=True)
    unmatched_offer_kg = ma.fields.Integer()
    unmet_demand_kg = ma.fields.Integer()
    optimal = ma.fields.Boolean(allow_none=True)
    seconds = ma.fields.Decimal(as_string=True, allow_none=True)
    yuan_per_tkm = ma.fields.Decimal(as_string=True)
    proposals = ma.fields.Function(lambda r: [p.id for p in r.proposals])
    created_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(allow_none=True)


class RunDetail(RunOut):
    snapshot = ma.fields.Dict(allow_none=True, metadata={"description": "The run's input in match-file form"})


class SideOut(ma.Schema):
    enterprise_id = ma.fields.Integer()
    decision = ma.fields.String()
    reason = ma.fields.String()
    decided_at = ma.fields.DateTime(allow_none=True)


def _side(proposal, prefix: str) -> dict:
    return {"enterprise_id": getattr(proposal, f"{prefix}_enterprise_id"),
            "decision": getattr(proposal, f"{prefix}_decision").value,
            "reason": getattr(proposal, f"{prefix}_reason"), "decided_at": getattr(proposal, f"{prefix}_decided_at")}


class ProposalOut(ma.Schema):
    id = ma.fields.Integer()
    run_id = ma.fields.Integer(allow_none=True)
    offer_id = ma.fields.Integer()
    demand_id = ma.fields.Integer()
    kg = ma.fields.Integer()
    tonnes = ma.fields.Function(lambda p: _tonnes(p.kg))
    km = ma.fields.Decimal(as_string=True)
    price_per_t = ma.fields.Decimal(as_string=True)
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    status = ma.fields.Function(lambda p: p.status.value)
    offer_side = ma.fields.Function(lambda p: SideOut().dump(_side(p, "offer")))
    demand_side = ma.fields.Function(lambda p: SideOut().dump(_side(p, "demand")))
    agreement_id = ma.fields.Function(lambda p: p.agreement.id if p.agreement else None)
    explanation = ma.fields.Dict()
    created_at = ma.fields.DateTime()


class AgreementOut(ma.Schema):
    id = ma.fields.Integer()
    contract_no = ma.fields.String()
    proposal_id = ma.fields.Integer()
    offer_id = ma.fields.Integer()
    demand_id = ma.fields.Integer()
    producer_id = ma.fields.Integer()
    utiliser_id = ma.fields.Integer()
    sw_code = ma.fields.String()
    kg = ma.fields.Integer()
    tonnes = ma.fields.Function(lambda a: _tonnes(a.kg))
    remaining_kg = ma.fields.Integer()
    price_per_t = ma.fields.Decimal(as_string=True)
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    status = ma.fields.Function(lambda a: a.status.value)
    created_at = ma.fields.DateTime()


class ProposalQuery(StrictSchema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in ProposalStatus]), load_default=None)
    run_id = Id(strict=False, load_default=None)


class ProposalIn(StrictSchema):
    offer_id = Id(required=True)
    demand_id = Id(required=True)
    tonnes = Quantity(required=True, metadata={"description": "At most 3 decimals"})
    price_per_t = Quantity(allow_none=True, load_default=None,
                           metadata={"description": "Yuan per tonne; negative: the producer pays a gate fee. "
                                                    "Absent: halfway between asking and offered price."})
    period_start = ma.fields.Date(allow_none=True, load_default=None)
    period_end = ma.fields.Date(allow_none=True, load_default=None)


class DecisionIn(StrictSchema):
    decision = ma.fields.String(required=True, validate=validate.OneOf(["accept", "decline"]))
    reason = ma.fields.String(load_default="", validate=validate.Length(max=1000),
                              metadata={"description": "Required when declining"})


@blp.route("/matching/runs")
class RunList(MethodView):
    decorators = [login_required_api]

    @blp.response(200, RunOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self):
        """The latest 50 runs, newest first (platform admins and regulators)."""
        return runs.runs_for(current_user)

    @blp.response(202, RunOut)
    @blp.doc(security=SECURITY)
    def post(self):
        """Start a city-wide run: queued on Redis when configured (poll it), otherwise run before answering."""
        run = runs.start(current_user)
        db.session.commit()
        jobs.dispatch(run)
        return run


@blp.route("/matching/runs/<id:run_id>")
class RunItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, RunDetail)
    @blp.doc(security=SECURITY)
    def get(self, run_id):
        """One run with its progress, totals, proposal ids and input snapshot."""
        return runs.get_run(current_user, run_id)


@blp.route("/proposals")
class ProposalList(MethodView):
    decorators = [login_required_api]

    @blp.arguments(ProposalQuery, location="query")
    @blp.response(200, ProposalOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Proposals to your enterprises (all of them for regulators and platform admins), newest first."""
        status = ProposalStatus(args["status"]) if args["status"] else None
        return service.proposals_for(current_user, status=status, run_id=args["run_id"])

    @blp.arguments(ProposalIn)
    @blp.response(201, ProposalOut)
    @blp.doc(security=SECURITY)
    def post(self, body):
        """Propose directly for an offer and a demand, one of them your own; your side accepts by proposing."""
        proposal = service.propose(current_user, body, runs.transport_rate())
        db.session.commit()
        return proposal


@blp.route("/proposals/<id:proposal_id>")
class ProposalItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, ProposalOut)
    @blp.doc(security=SECURITY)
    def get(self, proposal_id):
        """One proposal with both sides' answers and its explanation."""
        return service.get_proposal(current_user, proposal_id)


@blp.route("/proposals/<id:proposal_id>/decision")
class ProposalDecision(MethodView):
    decorators = [login_required_api]

    @blp.arguments(DecisionIn)
    @blp.response(200, ProposalOut)
    @blp.alt_response(409, description="Not enough tonnes left to conclude the agreement")
    @blp.doc(security=SECURITY)
    def post(self, body, proposal_id):
        """Accept or decline for your side; the second acceptance concludes the agreement and reserves tonnes."""
        proposal = service.decide(current_user, proposal_id, body["decision"] == "accept", body["reason"])
        db.session.commit()
        return proposal


@blp.route("/agreements")
class AgreementList(MethodView):
    decorators = [login_required_api]

    @blp.response(200, AgreementOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self):
        """Agreements of your enterprises (all of them for regulators and platform admins), newest first."""
        return service.agreements_for(current_user)


@blp.route("/agreements/<id:agreement_id>")
class AgreementItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, AgreementOut)
    @blp.doc(security=SECURITY)
    def get(self, agreement_id):
        """One agreement (委托利用协议)."""
        return service.get_agreement(current_user, agreement_id)
