"""Transfer slips (转移联单): create, publish, sign, bulk-sign, revise, list by box, lifecycle.

Signing is one endpoint taking the signature ``kind`` (emission, transport,
reception, operation) and needs a recent authentication: send the
``X-Reauth`` header (your password or a current TOTP code) with it. Tonnes
are decimal strings or numbers with at most 3 decimals; the slip answers in
integer kilograms and in tonnes.
"""
from __future__ import annotations

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from wasteex.accounts.reauth import evidence_from_request
from wasteex.api.base import SECURITY, Id, Quantity, StrictSchema, login_required_api
from wasteex.extensions import db
from wasteex.listing import paginate
from wasteex.transfers import lifecycle, queries, revisions, service, signing
from wasteex.transfers.states import SIGNATURES, SlipStatus
from wasteex.transfers.views import pdf_download

PREFIX = ""
blp = Blueprint("api_transfers", __name__, description="Transfer slips (转移联单): signed custody, written into both ledgers")


def _origin() -> signing.Origin:
    return signing.Origin(request.remote_addr, request.user_agent.string)


class LegOut(ma.Schema):
    position = ma.fields.Integer()
    carrier_id = ma.fields.Integer()
    carrier = ma.fields.Function(lambda leg: leg.carrier.name)
    plates = ma.fields.List(ma.fields.String())
    driver = ma.fields.String()
    taken_over_on = ma.fields.Date(allow_none=True)
    signed_at = ma.fields.DateTime(allow_none=True)


class SignatureOut(ma.Schema):
    kind = ma.fields.Function(lambda s: s.act.value)
    leg = ma.fields.Integer(attribute="leg_position")
    enterprise_id = ma.fields.Integer()
    signer = ma.fields.String(attribute="signer_name")
    signed_at = ma.fields.DateTime()
    section = ma.fields.Dict()
    ledger_entry_ids = ma.fields.List(ma.fields.Integer())


class RevisionOut(ma.Schema):
    id = ma.fields.Integer()
    cancel = ma.fields.Boolean()
    changes = ma.fields.Dict(metadata={"description": "field → [old value, new value]"})
    reason = ma.fields.String()
    requested_by_enterprise_id = ma.fields.Integer()
    approver_enterprise_id = ma.fields.Integer()
    status = ma.fields.Function(lambda r: r.status.value)
    requested_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    decision_note = ma.fields.String()


class SlipOut(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    status = ma.fields.Function(lambda s: s.status.value)
    agreement_id = ma.fields.Integer()
    contract_no = ma.fields.String()
    producer_id = ma.fields.Integer()
    receiver_id = ma.fields.Integer()
    stream_id = ma.fields.Integer()
    sw_code = ma.fields.String()
    route = ma.fields.Function(lambda s: s.route.key)
    planned_kg = ma.fields.Integer()
    planned_on = ma.fields.Date()
    itinerary = ma.fields.String()
    legs = ma.fields.List(ma.fields.Nested(LegOut))
    dispatched_kg = ma.fields.Integer(allow_none=True)
    dispatched_on = ma.fields.Date(allow_none=True)
    received_kg = ma.fields.Integer(allow_none=True)
    refused_kg = ma.fields.Integer(allow_none=True)
    accepted_kg = ma.fields.Integer(allow_none=True)
    acceptance = ma.fields.Function(lambda s: s.acceptance.value if s.acceptance else None)
    refusal_reason = ma.fields.String(allow_none=True)
    received_on = ma.fields.Date(allow_none=True)
    discrepancy_kg = ma.fields.Integer(allow_none=True)
    legs_unsigned = ma.fields.Integer()
    operation_route = ma.fields.Function(lambda s: s.operation_route.key if s.operation_route else None)
    operated_on = ma.fields.Date(allow_none=True)
    product = ma.fields.String(allow_none=True)
    signatures = ma.fields.List(ma.fields.Nested(SignatureOut))
    revisions = ma.fields.List(ma.fields.Nested(RevisionOut))
    created_at = ma.fields.DateTime()
    published_at = ma.fields.DateTime(allow_none=True)


class SlipPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SlipOut))
    page = ma.fields.Integer()
    pages = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
    sort = ma.fields.String()


class SlipQuery(StrictSchema):
    box = ma.fields.String(load_default="all", validate=validate.OneOf([b.value for b in queries.Box]),
                           metadata={"description": "to_sign: waiting for your signature; in_transit; done; drafts"})
    status = ma.fields.String(load_default=None, validate=validate.OneOf([s.value for s in SlipStatus]))
    q = ma.fields.String(load_default="", validate=validate.Length(max=64),
                         metadata={"description": "Slip number, contract number or your own ERP reference"})
    sort = ma.fields.String(load_default="-id", validate=validate.OneOf(
        [f"{sign}{key}" for key in queries.SORTS.columns for sign in ("", "-")]))
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))
    per_page = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class LegIn(StrictSchema):
    carrier_id = Id(required=True)
    plates = ma.fields.List(ma.fields.String(validate=validate.Length(max=16)), required=True,
                            validate=validate.Length(min=1, max=service.MAX_TRUCKS))
    driver = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))


class SlipIn(StrictSchema):
    agreement_id = Id(required=True)
    planned_t = Quantity(required=True)
    planned_on = ma.fields.Date(required=True)
    itinerary = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    legs = ma.fields.List(ma.fields.Nested(LegIn), required=True, validate=validate.Length(min=1, max=service.MAX_LEGS))


class SignIn(StrictSchema):
    kind = ma.fields.String(required=True, validate=validate.OneOf([a.value for a in SIGNATURES]))
    handler = ma.fields.String(validate=validate.Length(max=120), metadata={"description": "emission, reception, operation"})
    dispatched_t = Quantity(metadata={"description": "emission: weighbridge tonnes"})
    dispatched_on = ma.fields.Date(metadata={"description": "emission"})
    taken_over_on = ma.fields.Date(metadata={"description": "transport: the next carrier leg takes over"})
    received_t = Quantity(metadata={"description": "reception: weighed tonnes"})
    refused_t = Quantity(metadata={"description": "reception: refused tonnes (0: accepted)"})
    refusal_reason = ma.fields.String(validate=validate.Length(max=2000))
    received_on = ma.fields.Date()
    route_key = ma.fields.String(validate=validate.Length(max=40), metadata={"description": "operation: route applied"})
    operated_on = ma.fields.Date()
    product = ma.fields.String(validate=validate.Length(max=255))


class WeightIn(StrictSchema):
    received_t = Quantity()
    refused_t = Quantity()
    refusal_reason = ma.fields.String(validate=validate.Length(max=2000))
    dispatched_t = Quantity()


class BulkSignIn(SignIn):
    slip_ids = ma.fields.List(Id(), required=True, validate=validate.Length(min=1, max=signing.MAX_BULK))
    weights = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(WeightIn), load_default=dict,
                             metadata={"description": "Per-slip weights, keyed by slip id (one of slip_ids)"})


class BulkOutcomeOut(ma.Schema):
    slip_id = ma.fields.Integer()
    ok = ma.fields.Boolean()
    number = ma.fields.String(allow_none=True)
    message = ma.fields.String()
    fields = ma.fields.Dict(allow_none=True)


class RevisionIn(StrictSchema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))
    cancel = ma.fields.Boolean(load_default=False)
    changes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(allow_none=True), load_default=dict,
                             metadata={"description": "field → new value, among "
                                                      + ", ".join(sorted(revisions.REVISABLE))})


class RevisionDecisionIn(StrictSchema):
    decision = ma.fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000),
                            metadata={"description": "Required when rejecting"})


class TagIn(StrictSchema):
    reference = ma.fields.String(required=True, validate=validate.Length(max=64),
                                 metadata={"description": "Your enterprise's own reference; empty clears it"})


class EntryCheckOut(ma.Schema):
    entry_id = ma.fields.Function(lambda c: c.entry.id)
    enterprise_id = ma.fields.Function(lambda c: c.entry.enterprise_id)
    kind = ma.fields.Function(lambda c: c.entry.kind.value)
    quantity_kg = ma.fields.Function(lambda c: c.entry.quantity_kg)
    hash = ma.fields.Function(lambda c: c.entry.hash)
    intact = ma.fields.Boolean()


class EventOut(ma.Schema):
    at = ma.fields.DateTime()
    stage = ma.fields.String()
    title = ma.fields.String()
    who = ma.fields.String()
    details = ma.fields.Dict()
    slip_id = ma.fields.Integer(allow_none=True)
    entries = ma.fields.List(ma.fields.Nested(EntryCheckOut))


@blp.route("/slips")
class SlipList(MethodView):
    decorators = [login_required_api]

    @blp.arguments(SlipQuery, location="query")
    @blp.response(200, SlipPage)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Your slips by box, status or search, newest first (all published ones for read-all accounts)."""
        stmt = queries.slips_for(current_user, queries.Box(args["box"]), args["q"],
                                 SlipStatus(args["status"]) if args["status"] else None)
        return paginate(stmt, queries.SORTS, args["sort"], args["page"], args["per_page"])

    @blp.arguments(SlipIn)
    @blp.response(201, SlipOut)
    @blp.doc(security=SECURITY)
    def post(self, body):
        """Write a draft slip under an agreement (producer or utiliser); its tonnes are taken from the agreement."""
        slip = service.create(current_user, body.pop("agreement_id"), body)
        db.session.commit()
        return slip


@blp.route("/slips/<id:slip_id>")
class SlipItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, SlipOut)
    @blp.doc(security=SECURITY)
    def get(self, slip_id):
        """One slip with its legs, signatures and revision requests."""
        return service.get_slip(current_user, slip_id)


@blp.route("/slips/<id:slip_id>/publish")
class SlipPublish(MethodView):
    decorators = [login_required_api]

    @blp.response(200, SlipOut)
    @blp.doc(security=SECURITY)
    def post(self, slip_id):
        """Publish a draft: the producer, carriers, receiver and regulators can read it from now on."""
        slip = service.publish(current_user, slip_id)
        db.session.commit()
        return slip


@blp.route("/slips/<id:slip_id>/sign")
class SlipSign(MethodView):
    decorators = [login_required_api]

    @blp.arguments(SignIn)
    @blp.response(200, SlipOut)
    @blp.alt_response(401, description="Re-authentication needed: send X-Reauth")
    @blp.alt_response(409, description="Out of order, or someone signed first")
    @blp.doc(security=SECURITY)
    def post(self, body, slip_id):
        """Sign the next section (``kind``); the signature writes the ledger lines of both enterprises."""
        try:
            slip = signing.sign(current_user, slip_id, body.pop("kind"), body, evidence=evidence_from_request(),
                                origin=_origin())
        finally:
            db.session.commit()  # a used TOTP step must be recorded even when the signature is refused
        return slip


@blp.route("/slips/sign-many")
class SlipSignMany(MethodView):
    decorators = [login_required_api]

    @blp.arguments(BulkSignIn)
    @blp.response(200, BulkOutcomeOut(many=True))
    @blp.doc(security=SECURITY)
    def post(self, body):
        """Sign the same section of many slips; each is signed or refused on its own, with the reason."""
        ids = body.pop("slip_ids")
        outcomes = signing.sign_many(current_user, ids, body.pop("kind"), body, evidence=evidence_from_request(),
                                     origin=_origin())
        db.session.commit()
        return outcomes


@blp.route("/slips/<id:slip_id>/revisions")
class SlipRevisions(MethodView):
    decorators = [login_required_api]

    @blp.arguments(RevisionIn)
    @blp.response(201, RevisionOut)
    @blp.doc(security=SECURITY)
    def post(self, body, slip_id):
        """Ask the counterparty to approve a correction or a cancellation."""
        revision = revisions.request(current_user, slip_id, body)
        db.session.commit()
        return revision


@blp.route("/slip-revisions/<id:revision_id>/decision")
class SlipRevisionDecision(MethodView):
    decorators = [login_required_api]

    @blp.arguments(RevisionDecisionIn)
    @blp.response(200, RevisionOut)
    @blp.doc(security=SECURITY)
    def post(self, body, revision_id):
        """Approve (the change applies now) or reject (with a note) a revision request addressed to you."""
        revision = revisions.decide(current_user, revision_id, body["decision"] == "approve", body["note"])
        db.session.commit()
        return revision


@blp.route("/slips/<id:slip_id>/tag")
class SlipTagItem(MethodView):
    decorators = [login_required_api]

    @blp.arguments(TagIn)
    @blp.response(204)
    @blp.doc(security=SECURITY)
    def put(self, body, slip_id):
        """Set your enterprise's own reference for the slip (an ERP number), searchable with ``q``."""
        service.tag(current_user, slip_id, body["reference"])
        db.session.commit()


@blp.route("/slips/<id:slip_id>/pdf")
class SlipPdf(MethodView):
    decorators = [login_required_api]

    @blp.response(200, content_type="application/pdf", description="The printable slip (Chinese, with its QR code)")
    @blp.doc(security=SECURITY)
    def get(self, slip_id):
        """The slip as a PDF: every section, the signatures, the ledger lines' hashes and the verification QR code."""
        return pdf_download(slip_id)


@blp.route("/slips/<id:slip_id>/lifecycle")
class SlipLifecycle(MethodView):
    decorators = [login_required_api]

    @blp.response(200, EventOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self, slip_id):
        """Every step of the slip with the ledger lines it wrote, each re-checked against its hash chain."""
        return lifecycle.of_slip(current_user, slip_id)
