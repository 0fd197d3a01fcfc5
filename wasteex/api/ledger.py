"""Ledger entries: list, record, correct, batch import, chain status and the flow summary."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from wasteex.api.base import SECURITY, Id, Quantity, StrictBoolean, StrictSchema, login_required_api
from wasteex.extensions import db
from wasteex.ledger import chain_store, service
from wasteex.ledger.kinds import RECORDABLE, RULES
from wasteex.ledger.models import EntryKind, EntrySource, LedgerEntry
from wasteex.listing import Sorts, paginate

PREFIX = ""
blp = Blueprint("api_ledger", __name__, description="The MEE ledger (台账)")

ENTRY_SORTS = Sorts({"seq": LedgerEntry.seq, "period_date": LedgerEntry.period_date}, default="-seq")


class EntryOut(ma.Schema):
    id = ma.fields.Integer()
    enterprise_id = ma.fields.Integer()
    seq = ma.fields.Integer()
    kind = ma.fields.Function(lambda e: e.kind.value)
    stream_id = ma.fields.Integer(allow_none=True)
    sw_code = ma.fields.String()
    period_date = ma.fields.Date()
    tonnes = ma.fields.Function(lambda e: e.quantity_kg / 1000)
    quantity_kg = ma.fields.Integer()
    from_prior_storage = ma.fields.Boolean()
    facility_code = ma.fields.Function(lambda e: e.facility.code if e.facility else None)
    route_key = ma.fields.Function(lambda e: e.route.key if e.route else None)
    handler = ma.fields.String()
    counterparty_name = ma.fields.String(allow_none=True)
    counterparty_credit_code = ma.fields.String(allow_none=True)
    carrier_name = ma.fields.String(allow_none=True)
    plate_number = ma.fields.String(allow_none=True)
    contract_number = ma.fields.String(allow_none=True)
    product = ma.fields.String(allow_none=True)
    reference = ma.fields.String(allow_none=True)
    source = ma.fields.Function(lambda e: e.source.value)
    corrects_id = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    recorded_at = ma.fields.DateTime()
    hash = ma.fields.String()
    prev_hash = ma.fields.String()


class EntryIn(StrictSchema):
    kind = ma.fields.String(required=True, validate=validate.OneOf([k.value for k in RECORDABLE]))
    period_date = ma.fields.Date(required=True)
    tonnes = Quantity(required=True, validate=validate.Range(min=0, max=10**9))
    handler = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    stream_id = Id(allow_none=True)
    sw_code = ma.fields.String(allow_none=True, validate=validate.Length(max=4))
    facility_code = ma.fields.String(allow_none=True, validate=validate.Length(max=40))
    route_key = ma.fields.String(allow_none=True, validate=validate.Length(max=40))
    from_prior_storage = StrictBoolean(load_default=False)
    counterparty_name = ma.fields.String(allow_none=True, validate=validate.Length(max=255))
    counterparty_credit_code = ma.fields.String(allow_none=True, validate=validate.Length(max=18))
    carrier_name = ma.fields.String(allow_none=True, validate=validate.Length(max=255))
    plate_number = ma.fields.String(allow_none=True, validate=validate.Length(max=16))
    contract_number = ma.fields.String(allow_none=True, validate=validate.Length(max=64))
    product = ma.fields.String(allow_none=True, validate=validate.Length(max=255))
    reference = ma.fields.String(allow_none=True, validate=validate.Length(max=64))


class EntryQuery(StrictSchema):
    year = ma.fields.Integer(validate=validate.Range(min=2000, max=2100))
    kind = ma.fields.String(validate=validate.OneOf([k.value for k in RULES]))
    sort = ma.fields.String(load_default="-seq", validate=validate.OneOf(["seq", "-seq", "period_date", "-period_date"]))
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))
    per_page = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class EntryPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EntryOut))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
    pages = ma.fields.Integer()
    sort = ma.fields.String()


class CorrectionIn(StrictSchema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))
    replacement = ma.fields.Nested(EntryIn, allow_none=True)


class ImportLineIn(EntryIn):
    """A batch line needs its own reference: a re-sent batch is then skipped, not doubled."""

    reference = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))


class ImportIn(StrictSchema):
    lines = ma.fields.List(ma.fields.Nested(ImportLineIn), required=True, validate=validate.Length(min=1, max=1000))


class ImportLineOut(ma.Schema):
    line = ma.fields.Integer()
    reference = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    field = ma.fields.String(allow_none=True)
    cell = ma.fields.String(allow_none=True)
    message = ma.fields.String()
    entry_id = ma.fields.Integer(allow_none=True)


class ImportOut(ma.Schema):
    added = ma.fields.Integer()
    skipped = ma.fields.Integer()
    refused = ma.fields.Integer()
    lines = ma.fields.List(ma.fields.Nested(ImportLineOut))


class ChainOut(ma.Schema):
    enterprise_id = ma.fields.Integer()
    ok = ma.fields.Boolean()
    entries = ma.fields.Integer()
    head_hash = ma.fields.String()
    broken_entry_id = ma.fields.Integer(allow_none=True)
    broken_seq = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(allow_none=True)


def entry_input(body: dict) -> service.EntryInput:
    return service.EntryInput(**body)


@blp.route("/enterprises/<id:enterprise_id>/ledger")
class LedgerList(MethodView):
    decorators = [login_required_api]

    @blp.arguments(EntryQuery, location="query")
    @blp.response(200, EntryPage)
    @blp.doc(security=SECURITY)
    def get(self, args, enterprise_id):
        """The enterprise's ledger entries, newest first."""
        stmt = service.entries_of(current_user, enterprise_id)
        if "kind" in args:
            stmt = stmt.where(LedgerEntry.kind == EntryKind(args["kind"]))
        if "year" in args:
            stmt = stmt.where(LedgerEntry.period_date.between(f"{args['year']}-01-01", f"{args['year']}-12-31"))
        return paginate(stmt, ENTRY_SORTS, args["sort"], args["page"], args["per_page"])

    @blp.arguments(EntryIn)
    @blp.response(201, EntryOut)
    @blp.doc(security=SECURITY)
    def post(self, body, enterprise_id):
        """Append one entry to the enterprise's chain."""
        entry = service.record_entry(current_user, enterprise_id, entry_input(body), EntrySource.API)
        db.session.commit()
        return entry


@blp.route("/enterprises/<id:enterprise_id>/ledger/import")
class LedgerImport(MethodView):
    decorators = [login_required_api]

    @blp.arguments(ImportIn)
    @blp.response(200, ImportOut)
    @blp.doc(security=SECURITY)
    def post(self, body, enterprise_id):
        """Record up to 1000 entries; each line is added, skipped (duplicate reference) or refused."""
        from wasteex.ledger.importer import import_rows

        rows = [dict(line, _line=number) for number, line in enumerate(body["lines"], start=1)]
        report = import_rows(current_user, enterprise_id, rows, EntrySource.API)
        db.session.commit()
        return report


@blp.route("/ledger/<id:entry_id>")
class LedgerItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, EntryOut)
    @blp.doc(security=SECURITY)
    def get(self, entry_id):
        """One entry with its hash and its predecessor's."""
        return service.get_entry(current_user, entry_id)


@blp.route("/ledger/<id:entry_id>/corrections")
class LedgerCorrection(MethodView):
    decorators = [login_required_api]

    @blp.arguments(CorrectionIn)
    @blp.response(201, EntryOut(many=True))
    @blp.doc(security=SECURITY)
    def post(self, body, entry_id):
        """Reverse an entry (and optionally record its corrected version), with a reason."""
        replacement = entry_input(body["replacement"]) if body.get("replacement") else None
        written = service.correct_entry(current_user, entry_id, body["reason"], replacement)
        db.session.commit()
        return written


@blp.route("/enterprises/<id:enterprise_id>/ledger/chain")
class LedgerChainStatus(MethodView):
    decorators = [login_required_api]

    @blp.response(200, ChainOut)
    @blp.doc(security=SECURITY)
    def get(self, enterprise_id):
        """Verify the enterprise's hash chain now and give its head hash."""
        service.entries_of(current_user, enterprise_id)  # permission check
        report = chain_store.verify_enterprise(enterprise_id)
        broken = report.broken
        return {"enterprise_id": enterprise_id, "ok": report.ok, "entries": report.count,
                "head_hash": report.head_hash, "broken_entry_id": broken.id if broken else None,
                "broken_seq": broken.seq if broken else None, "reason": broken.reason.value if broken else None}
