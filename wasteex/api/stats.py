"""GET /api/v1/stats/utilisation: the official comprehensive utilisation rate (DOMAIN.md §2)."""
from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from wasteex.api.base import SECURITY, StrictSchema, login_required_api
from wasteex.errors import ValidationFailed
from wasteex.geo import DIVISIONS, Base
from wasteex.ledger.access import visible_enterprise_ids
from wasteex.ledger.stats import TARGET_RATE, StatsFilter, closing_stock_kg, flow_totals

PREFIX = "/stats"
blp = Blueprint("api_stats", __name__, description="Utilisation statistics")


class UtilisationQuery(StrictSchema):
    year = ma.fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    month = ma.fields.Integer(validate=validate.Range(min=1, max=12))
    through_month = ma.fields.Integer(validate=validate.Range(min=1, max=12),
                                      metadata={"description": "Year to date: January to this month (not with month)"})
    base = ma.fields.String(validate=validate.OneOf([b.value for b in Base]))
    banner = ma.fields.String(validate=validate.OneOf(list(DIVISIONS)))
    sw_code = ma.fields.String(validate=validate.Regexp(r"^SW\d{2}$"))
    enterprise = ma.fields.String(validate=validate.Length(equal=18),
                                  metadata={"description": "Unified social credit code"})



class FlowFiguresOut(ma.Schema):
    """A flow summary (附表2) in tonnes with its official rate: the rate API's and the cockpit's rows."""

    generated_t = ma.fields.Float()
    utilised_t = ma.fields.Float()
    self_utilised_t = ma.fields.Float()
    entrusted_utilised_t = ma.fields.Float()
    utilised_from_prior_storage_t = ma.fields.Float()
    disposed_t = ma.fields.Float()
    disposed_from_prior_storage_t = ma.fields.Float()
    stored_t = ma.fields.Float(metadata={"description": "Net put into storage from the period's own generation"})
    dumped_t = ma.fields.Float()
    in_transit_t = ma.fields.Float(metadata={"description": "Shipped on transfer slips, not yet utilised or "
                                                           "disposed by the receiver: counted once it is"})
    closing_stock_t = ma.fields.Float(metadata={"description": "Stock in storage at the end of the period"})
    rate = ma.fields.Float(allow_none=True, metadata={"description": "utilised / (generated + prior storage)"})


class UtilisationOut(FlowFiguresOut):
    year = ma.fields.Integer()
    month = ma.fields.Integer(allow_none=True)
    through_month = ma.fields.Integer(allow_none=True)
    balance_difference_t = ma.fields.Float()
    target = ma.fields.Float()


def tonnes(kg: int) -> float:
    """Exact to the kilogram: a 3-decimal Decimal, written as a JSON number."""
    return float(Decimal(kg) / 1000)


@blp.route("/utilisation")
class Utilisation(MethodView):
    decorators = [login_required_api]

    @blp.arguments(UtilisationQuery, location="query")
    @blp.response(200, UtilisationOut)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Flow totals and the utilisation rate; enterprise users see their own figures only."""
        if "month" in args and "through_month" in args:  # across parameters: see market.distance_needs_a_site
            raise ValidationFailed.on("through_month", "Give month or through_month, not both.")
        flt = StatsFilter(
            year=args["year"], month=args.get("month"), through_month=args.get("through_month"),
            base=Base(args["base"]) if "base" in args else None, division_code=args.get("banner"),
            sw_code=args.get("sw_code"), enterprise_ids=visible_enterprise_ids(current_user, args.get("enterprise")),
        )
        totals = flow_totals(flt)
        rate = totals.utilisation_rate
        return {
            "year": flt.year, "month": flt.month, "through_month": flt.through_month,
            "generated_t": tonnes(totals.generated), "utilised_t": tonnes(totals.utilised),
            "self_utilised_t": tonnes(totals.self_utilised), "entrusted_utilised_t": tonnes(totals.entrusted_utilised),
            "utilised_from_prior_storage_t": tonnes(totals.utilised_from_prior_storage),
            "disposed_t": tonnes(totals.disposed),
            "disposed_from_prior_storage_t": tonnes(totals.disposed_from_prior_storage),
            "stored_t": tonnes(totals.stored), "dumped_t": tonnes(totals.dumped),
            "in_transit_t": tonnes(totals.in_transit),
            "closing_stock_t": tonnes(closing_stock_kg(flt)),
            "balance_difference_t": tonnes(totals.balance_difference()),
            "rate": float(rate) if rate is not None else None, "target": float(TARGET_RATE),
        }
