"""The regulator cockpit: read-only pages over the whole city's ledger, with their downloads.

Only regulators and platform admins get in (everyone else: 403). Every figure links to what is
behind it: a base to its banners and enterprises, an enterprise to its streams and its ledger.
Views read arguments, call ``queries`` / ``flows`` / ``report`` and render; nothing here writes.
"""
from __future__ import annotations

from datetime import date
from io import BytesIO

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from wasteex.forms_support import page_arg
from wasteex.geo import Base
from wasteex.listing import Page
from wasteex.regulator import charts, exports, flows, queries, report
from wasteex.regulator.queries import CITY, Period, Slice
from wasteex.replica import read_from_replica

bp = Blueprint("regulator", __name__, url_prefix="/regulator")

MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}
# What each part of the city is broken down by on its page (its largest enterprises come last).
SUBDIMENSIONS = {"base": ("division", "sw_code"), "division": ("sw_code", "industry"),
                 "sw_code": ("base", "division"), "industry": ("sw_code", "base")}
CITY_DIMENSIONS = ("base", "division", "sw_code", "industry")
TOP_ENTERPRISES = 10
RECENT_ENTRIES = 15


@bp.before_request
@login_required
def require_cockpit_reader():
    """Regulators and platform admins only (a PermissionDenied renders the 403 page)."""
    queries.require_cockpit(current_user)


bp.before_request(read_from_replica)  # after the check above: the reader is authenticated on the primary


def part_url(dimension: str, key, **args) -> str:
    if dimension == "enterprise":
        return url_for("regulator.enterprise", enterprise_id=key, **args)
    return url_for("regulator.part", dimension=dimension, key=key.value if isinstance(key, Base) else key, **args)


def export_url(table: str, fmt: str, period: Period, piece: Slice | None = None, **args) -> str:
    """The download of a cockpit table for a part of the city (None: the city); empty arguments are left out."""
    args = {name: value for name, value in args.items() if value}
    if piece is not None and piece.dimension:
        args.update(part=piece.dimension, key=piece.key)
    return url_for("regulator.table", name=table, fmt=fmt, year=period.year, **args)


@bp.context_processor
def cockpit_helpers() -> dict:
    return {"part_url": part_url, "export_url": export_url, "key_label": exports.key_label,
            "target": queries.TARGET, "wan_tonnes": report.wan_tonnes}


def _period() -> Period:
    """The ``year`` argument (2000 … this year; otherwise this year), this year to date."""
    today = date.today()
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= today.year else today.year
    return Period.of(year, today)


def _slice_arg() -> Slice:
    """``part`` and ``key`` arguments naming a part of the city (none: the whole city)."""
    dimension, key = request.args.get("part", ""), request.args.get("key", "")
    return queries.slice_of(dimension, key) if dimension else CITY


def _years(period: Period) -> list[int]:
    return sorted(set(queries.years_with_data()) | {date.today().year, period.year}, reverse=True)


def _breakdowns(piece: Slice, period: Period, dimensions) -> tuple[dict, dict, Page]:
    """The slice's tables by ``dimensions``, their labels and its largest enterprises (one scan of the
    flows and one of the stock for all of them)."""
    tables = queries.breakdowns(current_user, piece, period, (*dimensions, "enterprise"))
    top = queries.league(current_user, piece, period, "-generated", 1, TOP_ENTERPRISES, rows=tables.pop("enterprise"))
    return tables, {dim: queries.labels(dim, [r.key for r in rows]) for dim, rows in tables.items()}, top


# The city and its parts ------------------------------------------------------------------


@bp.get("/")
def cockpit():
    period, today = _period(), date.today()
    city = queries.History(current_user, CITY, today.year)
    history = city.years(today)
    tables, names, top = _breakdowns(CITY, period, CITY_DIMENSIONS)
    months = city.months(period)
    base_chart = charts.rates(tables["base"], lambda r: exports.key_label("base", r.key, {}),
                              lambda r: part_url("base", r.key, year=period.year))
    return render_template(
        "regulator/cockpit.html", period=period, years=_years(period), history=history,
        current=city.year_row(period),
        tables=tables, names=names, months=months, trend=charts.trend(period, months), base_chart=base_chart,
        top=top,
        map_source=url_for("api_regulator.Map", year=period.year))


@bp.get("/<any(base, division, sw_code, industry):dimension>/<path:key>")
def part(dimension: str, key: str):
    period = _period()
    piece = queries.slice_of(dimension, key)
    tables, names, top = _breakdowns(piece, period, SUBDIMENSIONS[dimension])
    figures = queries.History(current_user, piece, period.year)
    months = figures.months(period)
    return render_template(
        "regulator/part.html", period=period, years=_years(period), piece=piece,
        piece_names=queries.labels(dimension, [piece.key]), current=figures.year_row(period),
        tables=tables, names=names, months=months, trend=charts.trend(period, months),
        top=top)


@bp.get("/enterprises")
def enterprises():
    period = _period()
    piece = _slice_arg()
    q = request.args.get("q", "").strip()
    page = queries.league(current_user, piece, period, request.args.get("sort"), page_arg(),
                          current_app.config["PAGE_SIZE"], q)
    return render_template("regulator/enterprises.html", period=period, years=_years(period), piece=piece,
                           piece_names=queries.labels(piece.dimension or "", [piece.key]), page=page, q=q)


@bp.get("/enterprises/<int:enterprise_id>")
def enterprise(enterprise_id: int):
    period = _period()
    figures = queries.enterprise_figures(current_user, enterprise_id, period)
    e = figures.enterprise
    outgoing = flows.flows(current_user, period, sender_id=e.id)
    incoming = flows.flows(current_user, period, receiver_code=e.credit_code)
    return render_template(
        "regulator/enterprise.html", period=period, years=_years(period), figures=figures, e=e,
        piece=Slice("enterprise", e.id),
        trend=charts.trend(period, figures.months), outgoing=outgoing, incoming=incoming,
        senders=queries.labels("enterprise", {f.sender_id for f in incoming}),
        receivers=queries.enterprises_by_code({f.receiver_code for f in outgoing}),
        recent=queries.recent_entries(current_user, e.id, *flows.period_dates(period), RECENT_ENTRIES))


# The annual public release ---------------------------------------------------------------


def _annual_report() -> report.AnnualReport:
    return report.annual_report(current_user, _period().year, date.today())


@bp.get("/report")
def annual_report():
    found = _annual_report()
    return render_template("regulator/report.html", report=found, period=found.year.period,
                           years=_years(found.year.period))


@bp.get("/report.xlsx")
def annual_report_xlsx():
    found = _annual_report()
    return _download(exports.to_xlsx(report.report_tables(found)), "xlsx",
                     f"ordos-industrial-solid-waste-{found.year.key}-固体废物污染环境防治信息")


@bp.get("/report.pdf")
def annual_report_pdf():
    found = _annual_report()
    html = render_template("regulator/report_document.html", report=found, period=found.year.period)
    return send_file(BytesIO(report.report_pdf(html)), mimetype="application/pdf", as_attachment=True,
                     download_name=f"ordos-industrial-solid-waste-{found.year.key}-固体废物污染环境防治信息.pdf",
                     max_age=0)


# Every table as .xlsx or CSV -------------------------------------------------------------


def _download(data: bytes, fmt: str, stem: str):
    return send_file(BytesIO(data), mimetype=MIMETYPES[fmt], as_attachment=True, download_name=f"{stem}.{fmt}",
                     max_age=0)


def _table(name: str, piece: Slice, period: Period) -> exports.Table:
    """The named cockpit table for this part of the city and period; 404 for an unknown name."""
    year = period.year
    if name == "years":
        return exports.years_table(queries.overview(current_user, date.today(), piece))
    if name in CITY_DIMENSIONS:
        rows = queries.breakdown(current_user, piece, period, name)
        return exports.breakdown_table(f"{year} {exports.DIMENSION_HEADERS[name]}", name, rows,
                                       queries.labels(name, [r.key for r in rows]))
    if name == "months":
        return exports.months_table(f"{year} 逐月", queries.monthly(current_user, piece, period))
    if name == "enterprises":
        rows, _sort = queries.league_rows(current_user, piece, period, request.args.get("sort"),
                                          request.args.get("q", "").strip())
        return exports.league_table(f"{year} 企业综合利用率", rows)
    if name == "streams" and piece.dimension == "enterprise":
        figures = queries.enterprise_figures(current_user, piece.key, period)
        return exports.breakdown_table(f"{year} 按固废", "stream", figures.streams, figures.stream_names)
    if name == "flows":
        sender = piece.key if piece.dimension == "enterprise" else None
        found = flows.flows(current_user, period, sender_id=sender)
        return exports.flows_table(f"{year} 委托利用处置流向", found,
                                   queries.labels("enterprise", {f.sender_id for f in found}))
    abort(404)


@bp.get("/tables/<name>.<any(xlsx, csv):fmt>")
def table(name: str, fmt: str):
    period, piece = _period(), _slice_arg()
    found = _table(name, piece, period)
    data = exports.to_xlsx([found]) if fmt == "xlsx" else exports.to_csv(found)
    suffix = f"-{piece.dimension}-{piece.key.value if isinstance(piece.key, Base) else piece.key}" if piece.dimension else ""
    return _download(data, fmt, f"cockpit-{name}-{period.year}{suffix}")
