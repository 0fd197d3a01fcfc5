"""The regulator cockpit as JSON: the official rate by year, by part of the city, by month, the map
and the annual public release. Regulators and platform admins only (everyone else: 403); read-only.

Tonnes are JSON numbers exact to the kilogram; ``rate`` is the official fraction
(utilised ÷ (generated + utilised from prior storage)), null when nothing was generated.
"""
from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from wasteex.api.base import SECURITY, StrictSchema, login_required_api
from wasteex.api.stats import FlowFiguresOut
from wasteex.errors import NotFound, ValidationFailed
from wasteex.regulator import charts, exports, flows, queries, report
from wasteex.regulator.queries import CITY, DIMENSIONS, LEAGUE_SORTS, Period, Row
from wasteex.replica import replica_reads

PREFIX = "/regulator"
blp = Blueprint("api_regulator", __name__, description="The regulator cockpit (read-only)")

SORTS = [f"{sign}{key}" for key in LEAGUE_SORTS for sign in ("", "-")]


class YearQuery(StrictSchema):
    year = ma.fields.Integer(validate=validate.Range(min=2000, max=2100),
                             metadata={"description": "Default: this year (to date)"})


class SliceQuery(YearQuery):
    part = ma.fields.String(validate=validate.OneOf(DIMENSIONS),
                            metadata={"description": "Restrict to one part of the city (with key)"})
    key = ma.fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"description": "base (jungar…), banner code, SW code, industry or enterprise id"})


class RatesQuery(SliceQuery):
    by = ma.fields.String(required=True, validate=validate.OneOf(DIMENSIONS))
    sort = ma.fields.String(validate=validate.OneOf(SORTS), metadata={"description": "by=enterprise only"})
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))
    per_page = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class FiguresOut(FlowFiguresOut):
    meets_target = ma.fields.Boolean()


class YearOut(FiguresOut):
    year = ma.fields.Integer()
    through_month = ma.fields.Integer(allow_none=True, metadata={"description": "Set for the year to date"})


class GroupOut(FiguresOut):
    key = ma.fields.String()
    label = ma.fields.String()
    url = ma.fields.String(metadata={"description": "The cockpit page behind the figures"})


class MonthOut(FiguresOut):
    month = ma.fields.Integer()


class OverviewOut(ma.Schema):
    target = ma.fields.Float()
    years = ma.fields.List(ma.fields.Nested(YearOut))
    bases = ma.fields.List(ma.fields.Nested(GroupOut))


class RatesOut(ma.Schema):
    by = ma.fields.String()
    year = ma.fields.Integer()
    through_month = ma.fields.Integer(allow_none=True)
    target = ma.fields.Float()
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(GroupOut))


class MonthsOut(ma.Schema):
    year = ma.fields.Integer()
    through_month = ma.fields.Integer(allow_none=True)
    months = ma.fields.List(ma.fields.Nested(MonthOut))


class MapOut(ma.Schema):
    year = ma.fields.Integer()
    through_month = ma.fields.Integer(allow_none=True)
    target = ma.fields.Float()
    banners = ma.fields.List(ma.fields.Dict(), metadata={"description": "code, name, rate (%)"})
    points = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "kind (producer|utiliser), enterprise_id, name, credit_code, banner, lon, lat, tonnes, rate (%), url"})
    flows = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "from_id, to_id, from [lon, lat], to, sender, receiver, utilised_t, disposed_t, tonnes"})
    flows_total = ma.fields.Integer(metadata={"description": "Located flows before keeping the largest"})


class ReportOut(ma.Schema):
    year = ma.fields.Nested(YearOut)
    previous = ma.fields.Nested(YearOut, allow_none=True)
    rate_change_points = ma.fields.Float(allow_none=True)
    by_type = ma.fields.List(ma.fields.Nested(GroupOut))
    top_industries = ma.fields.List(ma.fields.Nested(GroupOut))
    by_base = ma.fields.List(ma.fields.Nested(GroupOut))
    reporting_enterprises = ma.fields.Integer()


def _figures(row: Row) -> dict:
    t = row.totals
    out = {name: charts.tonnes(getattr(t, name)) for name in (
        "generated", "utilised", "self_utilised", "entrusted_utilised", "utilised_from_prior_storage", "disposed",
        "disposed_from_prior_storage", "stored", "dumped", "in_transit")}
    out = {f"{name}_t": value for name, value in out.items()}
    return {**out, "closing_stock_t": charts.tonnes(row.stock_kg),
            "rate": float(row.rate) if row.rate is not None else None, "meets_target": row.meets_target}


def _year(row) -> dict:
    return {**_figures(row), "year": row.period.year, "through_month": row.period.through_month}


def _group(dimension: str, row: Row, names: dict, year: int) -> dict:
    key = row.key.value if hasattr(row.key, "value") else row.key
    url = url_for("regulator.enterprise" if dimension == "enterprise" else "regulator.part", year=year,
                  **({"enterprise_id": key} if dimension == "enterprise" else {"dimension": dimension, "key": key}))
    return {**_figures(row), "key": str(key), "label": exports.key_label(dimension, row.key, names), "url": url}


def _groups(dimension: str, rows, year: int) -> list[dict]:
    names = queries.labels(dimension, [r.key for r in rows])
    return [_group(dimension, r, names, year) for r in rows]


def _period(args) -> Period:
    today = date.today()
    return Period.of(args.get("year", today.year), today)


def _slice(args) -> queries.Slice:
    if ("part" in args) != ("key" in args):
        raise ValidationFailed.on("key", _("Give part and key together."))
    if "part" not in args:
        return CITY
    try:
        return queries.slice_of(args["part"], args["key"])
    except NotFound as error:
        raise ValidationFailed.on("key", error.message) from None


@blp.route("/overview")
class Overview(MethodView):
    decorators = [replica_reads, login_required_api]

    @blp.arguments(YearQuery, location="query")
    @blp.response(200, OverviewOut)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Each year's city-wide figures (this year to date) and the chosen year's bases, against 80 %."""
        period = _period(args)
        years = queries.overview(current_user, date.today())
        bases = queries.breakdown(current_user, CITY, period, "base")
        return {"target": charts.TARGET_PERCENT / 100, "years": [_year(r) for r in years],
                "bases": _groups("base", bases, period.year)}


@blp.route("/rates")
class Rates(MethodView):
    decorators = [replica_reads, login_required_api]

    @blp.arguments(RatesQuery, location="query")
    @blp.response(200, RatesOut)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """The figures by base, banner (division), SW code, industry or enterprise (a paginated league table)."""
        period, piece, by = _period(args), _slice(args), args["by"]
        if by == "enterprise":
            page = queries.league(current_user, piece, period, args.get("sort"), args["page"], args["per_page"])
            items = [_group("enterprise", r, {r.key: r.enterprise}, period.year) for r in page.items]
            total, number, per_page = page.total, page.page, page.per_page
        else:
            if "sort" in args:
                raise ValidationFailed.on("sort", _("Sorting applies to by=enterprise only."))
            rows = queries.breakdown(current_user, piece, period, by)
            items, total, number, per_page = _groups(by, rows, period.year), len(rows), 1, max(1, len(rows))
        return {"by": by, "year": period.year, "through_month": period.through_month,
                "target": charts.TARGET_PERCENT / 100, "total": total, "page": number, "per_page": per_page,
                "items": items}


@blp.route("/months")
class Months(MethodView):
    decorators = [replica_reads, login_required_api]

    @blp.arguments(SliceQuery, location="query")
    @blp.response(200, MonthsOut)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Month by month, with the storage stock at the end of each month."""
        period = _period(args)
        months = queries.monthly(current_user, _slice(args), period)
        return {"year": period.year, "through_month": period.through_month,
                "months": [{**_figures(m), "month": m.month} for m in months]}


@blp.route("/map")
class Map(MethodView):
    decorators = [replica_reads, login_required_api]

    @blp.arguments(YearQuery, location="query")
    @blp.response(200, MapOut)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Banners with their rate, producers and utilisers at their sites, the year's flows between them."""
        period = _period(args)
        found = flows.cockpit_map(current_user, period)
        return charts.map_payload(period, found, lambda eid: url_for("regulator.enterprise", enterprise_id=eid,
                                                                     year=period.year))


@blp.route("/report")
class AnnualReport(MethodView):
    decorators = [replica_reads, login_required_api]

    @blp.arguments(YearQuery, location="query")
    @blp.response(200, ReportOut)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """The annual public release (固体废物污染环境防治信息): the year, by waste type, top industries, bases."""
        found = report.annual_report(current_user, _period(args).year, date.today())
        year = found.year.period.year
        change = found.rate_change
        return {"year": _year(found.year), "previous": _year(found.previous) if found.previous else None,
                "rate_change_points": float(change) if change is not None else None,
                "by_type": [_group("sw_code", r, found.type_names, year) for r in found.by_type],
                "top_industries": _groups("industry", found.industries, year),
                "by_base": _groups("base", found.by_base, year),
                "reporting_enterprises": found.reporting_enterprises}
