"""The exchange: offers (供应) and demands (需求), search, publish / pause / close, recommendations.

Input schemas are strict: ``status``, ``remaining_kg``, ``enterprise_id`` and
anything else not listed are refused with a 422 naming the field. Status
changes have their own endpoints; the enterprise comes from the stream or site.
"""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from wasteex.api.base import SECURITY, Id, Quantity, StrictSchema, login_required_api
from wasteex.api.schemas import page_schema
from wasteex.catalog.data import QUALITY_ATTRIBUTES
from wasteex.errors import ValidationFailed
from wasteex.extensions import db
from wasteex.geo import DIVISIONS, Base
from wasteex.market import recommend, search, service
from wasteex.market.models import Supply, TransportBy

PREFIX = ""
blp = Blueprint("api_market", __name__, description="The exchange: offers (供应) and demands (需求)")
ACTIONS = ("publish", "pause", "close")


def _tonnes(kg: int | None) -> float | None:
    return None if kg is None else kg / 1000


class ListingOut(ma.Schema):
    id = ma.fields.Integer()
    enterprise_id = ma.fields.Integer()
    enterprise_name = ma.fields.Function(lambda x: x.enterprise.name)
    site_id = ma.fields.Integer()
    division_code = ma.fields.Function(lambda x: x.site.division_code)
    base = ma.fields.Function(lambda x: x.site.base.value)
    title = ma.fields.String()
    description = ma.fields.String()
    status = ma.fields.Function(lambda x: x.status.value)
    supply = ma.fields.Function(lambda x: x.supply.value)
    kg_per_month = ma.fields.Integer(allow_none=True)
    tonnes_per_month = ma.fields.Function(lambda x: _tonnes(x.kg_per_month))
    window_start = ma.fields.Date(allow_none=True)
    window_end = ma.fields.Date(allow_none=True)
    months = ma.fields.Integer(allow_none=True)
    total_kg = ma.fields.Integer()
    remaining_kg = ma.fields.Integer()
    total_tonnes = ma.fields.Function(lambda x: _tonnes(x.total_kg))
    remaining_tonnes = ma.fields.Function(lambda x: _tonnes(x.remaining_kg))
    price_per_t = ma.fields.Decimal(as_string=True)
    max_km = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    published_at = ma.fields.DateTime(allow_none=True)
    distance_km = ma.fields.Method("_km", allow_none=True)
    reason = ma.fields.Method("_reason", allow_none=True)

    def _km(self, listing):
        km = getattr(listing, "km", None)
        return None if km is None else round(km, 3)

    def _reason(self, listing):
        return getattr(listing, "reason", None)


class OfferOut(ListingOut):
    stream_id = ma.fields.Integer()
    sw_code = ma.fields.String()
    gb_class = ma.fields.String()
    transport_by = ma.fields.Function(lambda o: o.transport_by.value)
    lab_report_id = ma.fields.Integer(allow_none=True)
    quality = ma.fields.Function(lambda o: {
        q.attribute.key: {"value": float(q.value), "unit": q.attribute.unit, "measured_on": q.measured_on.isoformat(),
                          "declared": q.declared} for q in o.quality})


class DemandOut(ListingOut):
    accepts = ma.fields.List(ma.fields.String())
    accepts_class = ma.fields.List(ma.fields.String())
    route_key = ma.fields.Function(lambda d: d.route.key)
    limits = ma.fields.Function(lambda d: {
        lim.attribute.key: {"min": None if lim.min_value is None else float(lim.min_value),
                            "max": None if lim.max_value is None else float(lim.max_value), "unit": lim.attribute.unit}
        for lim in d.limits})


OfferPage = page_schema(OfferOut, "OfferPage")
DemandPage = page_schema(DemandOut, "DemandPage")


def _recommendations(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), metadata={"description": "Compatible, nearest first"}),
        "near": ma.fields.List(ma.fields.Nested(item_schema),
                               metadata={"description": "Within reach but incompatible, with the reason"}),
        "blocked": ma.fields.String(allow_none=True),
    })


OfferRecommendations = _recommendations(DemandOut, "OfferRecommendations")
DemandRecommendations = _recommendations(OfferOut, "DemandRecommendations")

# Input -------------------------------------------------------------------------

# Bounds that the columns can hold (kg in BIGINT, NUMERIC(12, 2) prices, NUMERIC(14, 4) values,
# INTEGER km); what the business allows (positive tonnes, 3 decimals …) is the service's to say.
TONNES = validate.Range(min=0, max=10**9)
PRICE = validate.Range(min=-10**7, max=10**7)
MEASURE = validate.Range(min=-10**9, max=10**9)
KM = validate.Range(min=0, max=100_000)
MONTH = validate.Regexp(r"^\d{4}-\d{2}(-\d{2})?$", error="Use YYYY-MM.")


class TermsIn(StrictSchema):
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    description = ma.fields.String(validate=validate.Length(max=4000))
    supply = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in Supply]))
    tonnes = Quantity(allow_none=True, validate=TONNES, metadata={"description": "One-off total, at most 3 decimals"})
    tonnes_per_month = Quantity(allow_none=True, validate=TONNES, metadata={"description": "Recurring, per month"})
    window_start = ma.fields.String(allow_none=True, validate=MONTH, metadata={"description": "First month, YYYY-MM"})
    window_end = ma.fields.String(allow_none=True, validate=MONTH, metadata={"description": "Last month, YYYY-MM"})
    price_per_t = Quantity(required=True, validate=PRICE, metadata={"description": "Yuan per tonne; negative: gate fee"})
    max_km = ma.fields.Integer(allow_none=True, strict=True, validate=KM)


class StatedQualityIn(StrictSchema):
    value = Quantity(required=True, validate=MEASURE)
    measured_on = ma.fields.Date(required=True)


class OfferTermsIn(TermsIn):
    transport_by = ma.fields.String(required=True, validate=validate.OneOf([t.value for t in TransportBy]))
    lab_report_id = Id(allow_none=True)
    # Keys (attribute keys) are checked by the service, naming the key: OpenAPI 3.0 cannot document them.
    quality = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(StatedQualityIn),
                             metadata={"description": "Newer values than the stream's latest, by attribute key"})


class OfferIn(OfferTermsIn):
    stream_id = Id(required=True)


class OfferPatch(OfferTermsIn):
    """Every field optional; the stream cannot change."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class LimitIn(StrictSchema):
    min = Quantity(allow_none=True, validate=MEASURE)
    max = Quantity(allow_none=True, validate=MEASURE)


class DemandIn(TermsIn):
    site_id = Id(required=True)
    accepts = ma.fields.List(ma.fields.String(validate=validate.Length(max=4)), required=True,
                             validate=validate.Length(max=30))
    accepts_class = ma.fields.List(ma.fields.String(validate=validate.OneOf(["I", "II"])), required=True)
    route_key = ma.fields.String(required=True, validate=validate.Length(max=40))
    limits = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(LimitIn))  # keys: see quality
    max_km = ma.fields.Integer(required=True, strict=True, validate=KM)


class DemandPatch(DemandIn):
    """Every field optional (see EnterprisePatch)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class _ListingQuery(StrictSchema):
    q = ma.fields.String(load_default="", validate=validate.Length(max=100))
    sw_code = ma.fields.String(load_default="", validate=validate.Regexp(r"^(SW\d{2})?$"))
    base = ma.fields.String(load_default="", validate=validate.OneOf(["", *(b.value for b in Base)]))
    division = ma.fields.String(load_default="", validate=validate.OneOf(["", *DIVISIONS]))
    status = ma.fields.String(load_default="open", validate=validate.OneOf(search.STATUSES))
    enterprise_id = Id(strict=False)
    min_tonnes = Quantity(validate=validate.Range(min=0, max=10**12))
    near = Id(strict=False, metadata={"description": "One of your sites: distances are measured from it"})
    km = ma.fields.Integer(validate=validate.Range(min=1, max=1000),
                           metadata={"description": "Within km of near (needs near; so does sort=distance)"})
    sort = ma.fields.String(load_default="newest", validate=validate.OneOf(search.SORTS))
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def distance_needs_a_site(args: dict) -> None:
    """Distances are measured from one of the caller's sites: km and sort=distance need near.

    A rule across parameters, which OpenAPI 3.0 cannot state: a ``validation_failed`` 422
    like the services' rules, not a schema-layer one (the document would promise too much).
    """
    if args.get("near"):
        return
    for field, given in (("km", args.get("km")), ("sort", args.get("sort") == "distance")):
        if given:
            raise ValidationFailed.on(field, _("Give one of your sites as near."))


ListingQuery = type("ListingQuery", (_ListingQuery,), {
    f"{key}_{side}": Quantity(validate=MEASURE, metadata={"description": f"{name_en} {side}imum ({unit or '-'})"})
    for key, _zh, name_en, unit, _lo, _hi in QUALITY_ATTRIBUTES for side in ("min", "max")})


def listing_filter(args: dict) -> search.ListingFilter:
    distance_needs_a_site(args)
    quality = {key: (args.get(f"{key}_min"), args.get(f"{key}_max")) for key, *_rest in QUALITY_ATTRIBUTES}
    return search.ListingFilter(
        q=args["q"], sw_code=args["sw_code"], base=args["base"], division=args["division"], status=args["status"],
        enterprise_id=args.get("enterprise_id"), min_tonnes=args.get("min_tonnes"), near=args.get("near"),
        within_km=args.get("km"), quality={k: v for k, v in quality.items() if v != (None, None)})


# Endpoints ---------------------------------------------------------------------

@blp.route("/offers")
class OfferList(MethodView):
    decorators = [login_required_api]

    @blp.arguments(ListingQuery, location="query")
    @blp.response(200, OfferPage)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Search offers: open ones of verified enterprises, plus every offer of your own enterprises."""
        return search.search_offers(current_user, listing_filter(args), args["sort"], args["page"], args["per_page"])

    @blp.arguments(OfferIn)
    @blp.response(201, OfferOut)
    @blp.doc(security=SECURITY)
    def post(self, body):
        """Offer a registered waste stream; it starts as a draft."""
        offer = service.create_offer(current_user, body)
        db.session.commit()
        return offer


@blp.route("/offers/<id:offer_id>")
class OfferItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, OfferOut)
    @blp.doc(security=SECURITY)
    def get(self, offer_id):
        """One offer (a draft only for its own enterprise)."""
        return service.get_offer(current_user, offer_id)

    @blp.arguments(OfferPatch)
    @blp.response(200, OfferOut)
    @blp.doc(security=SECURITY)
    def patch(self, body, offer_id):
        """Change an offer's terms or stated quality."""
        offer = service.update_offer(current_user, offer_id, body)
        db.session.commit()
        return offer


@blp.route("/offers/<id:offer_id>/recommendations")
class OfferRecommend(MethodView):
    decorators = [login_required_api]

    @blp.response(200, OfferRecommendations)
    @blp.doc(security=SECURITY)
    def get(self, offer_id):
        """Open demands this offer fits, nearest first, and near ones that do not fit with the reason."""
        recs = recommend.for_offer(current_user, offer_id)
        return {"items": recs.compatible, "near": recs.near, "blocked": recs.blocked}


@blp.route("/demands")
class DemandList(MethodView):
    decorators = [login_required_api]

    @blp.arguments(ListingQuery, location="query")
    @blp.response(200, DemandPage)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Search demands; quality bounds keep the demands whose limits accept that range."""
        return search.search_demands(current_user, listing_filter(args), args["sort"], args["page"], args["per_page"])

    @blp.arguments(DemandIn)
    @blp.response(201, DemandOut)
    @blp.doc(security=SECURITY)
    def post(self, body):
        """Post a demand for one of your utiliser sites; it starts as a draft."""
        demand = service.create_demand(current_user, body)
        db.session.commit()
        return demand


@blp.route("/demands/<id:demand_id>")
class DemandItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, DemandOut)
    @blp.doc(security=SECURITY)
    def get(self, demand_id):
        """One demand (a draft only for its own enterprise)."""
        return service.get_demand(current_user, demand_id)

    @blp.arguments(DemandPatch)
    @blp.response(200, DemandOut)
    @blp.doc(security=SECURITY)
    def patch(self, body, demand_id):
        """Change a demand's terms, codes, route, classes or limits."""
        demand = service.update_demand(current_user, demand_id, body)
        db.session.commit()
        return demand


@blp.route("/demands/<id:demand_id>/recommendations")
class DemandRecommend(MethodView):
    decorators = [login_required_api]

    @blp.response(200, DemandRecommendations)
    @blp.doc(security=SECURITY)
    def get(self, demand_id):
        """Open offers this demand accepts, nearest first, and near ones that do not fit with the reason."""
        recs = recommend.for_demand(current_user, demand_id)
        return {"items": recs.compatible, "near": recs.near, "blocked": recs.blocked}


def _status_view(act, action: str, schema: type[ma.Schema], noun: str) -> type[MethodView]:
    """POST /<noun>s/<id>/<action>: one endpoint per transition, as the status is never written directly."""
    def post(self, **ids):
        listing = act(current_user, next(iter(ids.values())), action)
        db.session.commit()
        return listing

    post.__doc__ = {"publish": f"Publish a draft or paused {noun} (verified enterprises only).",
                    "pause": f"Pause an open {noun}.", "close": f"Close a {noun} for good."}[action]
    post = blp.doc(security=SECURITY)(blp.response(200, schema)(post))
    return type(f"{noun.title()}{action.title()}", (MethodView,), {"decorators": [login_required_api], "post": post})


for _action in ACTIONS:
    blp.route(f"/offers/<id:offer_id>/{_action}", endpoint=f"offer_{_action}")(
        _status_view(service.offer_action, _action, OfferOut, "offer"))
    blp.route(f"/demands/<id:demand_id>/{_action}", endpoint=f"demand_{_action}")(
        _status_view(service.demand_action, _action, DemandOut, "demand"))
