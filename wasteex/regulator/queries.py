"""The cockpit's figures: the official rate city-wide and by base, banner, waste code, industry
and enterprise, month by month, with the storage stock.

Why a module of its own rather than more of ``ledger.stats``: the cockpit asks questions that
span several of the ledger's aggregates at once (a year's flows *and* its closing stock, a
league table sorted by rate, months with a running stock) and adds what a regulator reads them
by (periods, parts of the city, labels). All sums come from the ledger's monthly totals through
:mod:`wasteex.ledger.stats`, so every figure here equals the one on the enterprises' own 附表2.

Read-only. Every public function takes the actor and refuses anyone who does not read
everything (regulators and platform admins).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wasteex.accounts.models import User
from wasteex.catalog.models import WasteCategory
from wasteex.enterprises.models import Enterprise
from wasteex.errors import NotFound, PermissionDenied
from wasteex.extensions import db
from wasteex.geo import DIVISIONS, Base
from wasteex.ledger.models import LedgerEntry, MonthlyTotal
from wasteex.ledger.rates import FlowTotals
from wasteex.ledger.stats import (TARGET_RATE, StatsFilter, closing_stock_by, closing_stocks_by, flow_by, flows_by,
                                  months_up_to)
from wasteex.listing import MAX_PER_PAGE, Page, like_pattern
from wasteex.streams.models import WasteStream

TARGET = Decimal(TARGET_RATE)
DIMENSIONS = ("base", "division", "sw_code", "industry", "enterprise")
# The plan's bulk wastes (DOMAIN.md §1, §3): listed by waste code even in a year without figures.
# Gangue, fly ash, gasification slag (reported under SW59), FGD gypsum, carbide slag (SW16), smelting slag.
KEY_CODES = ("SW04", "SW02", "SW59", "SW06", "SW16", "SW01")


def require_cockpit(actor: User) -> None:
    """The cockpit is for read-all accounts only."""
    if not actor.reads_everything:
        raise PermissionDenied(_("Only regulators and platform admins can open the cockpit."))


# Periods and parts of the city -------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar year, or the current one up to this month (year to date)."""

    year: int
    through_month: int | None = None

    @classmethod
    def of(cls, year: int, today: date) -> Period:
        return cls(year, today.month if year == today.year else None)

    @property
    def year_to_date(self) -> bool:
        return self.through_month is not None

    @property
    def last_month(self) -> int:
        return self.through_month or 12


@dataclass(frozen=True)
class Slice:
    """The whole city (no dimension) or one base, banner, waste code, industry or enterprise."""

    dimension: str | None = None
    key: str | int | None = None

    def filter(self, period: Period) -> StatsFilter:
        flt = StatsFilter(year=period.year, through_month=period.through_month)
        if self.dimension == "base":
            return replace(flt, base=Base(self.key))
        if self.dimension == "division":
            return replace(flt, division_code=self.key)
        if self.dimension == "sw_code":
            return replace(flt, sw_code=self.key)
        if self.dimension == "industry":
            return replace(flt, industry=self.key)
        if self.dimension == "enterprise":
            return replace(flt, enterprise_ids=(int(self.key),))
        return flt


CITY = Slice()


def slice_of(dimension: str, key: str) -> Slice:
    """A slice named in a URL; NotFound when no such base, banner, code, industry or enterprise exists."""
    known = {
        "base": lambda: key in {b.value for b in Base},
        "division": lambda: key in DIVISIONS,
        "sw_code": lambda: db.session.scalar(select(WasteCategory.id).where(WasteCategory.sw_code == key)),
        "industry": lambda: db.session.scalar(select(Enterprise.id).where(Enterprise.industry == key).limit(1)),
        "enterprise": lambda: key.isdigit() and db.session.get(Enterprise, int(key)),
    }
    if dimension not in known or not known[dimension]():
        raise NotFound(_("Nothing of that name in the cockpit."))
    return Slice(dimension, int(key) if dimension == "enterprise" else key)


def years_with_data() -> list[int]:
    """Every year the ledger has figures for, latest first."""
    return list(db.session.scalars(select(MonthlyTotal.year).distinct().order_by(MonthlyTotal.year.desc())))


# Rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of a cockpit table: the flow figures of a group and its closing stock."""

    key: object
    totals: FlowTotals = field(default_factory=FlowTotals)
    stock_kg: int = 0

    @property
    def rate(self) -> Decimal | None:
        return self.totals.utilisation_rate

    @property
    def meets_target(self) -> bool:
        return self.rate is not None and self.rate >= TARGET


@dataclass(frozen=True)
class YearRow(Row):
    period: Period = Period(0)


@dataclass(frozen=True)
class MonthRow(Row):
    month: int = 0


class History:
    """A slice's figures month by month, every year up to one, from a single scan of its totals.

    Why one object: the cockpit's pages show each year's rate, the chosen year's months and the
    stock at the end of each; asked one by one these were a dozen scans of the same rows.
    """

    def __init__(self, actor: User, part: Slice, up_to_year: int):
        require_cockpit(actor)
        self.flows, self.movement = months_up_to(part.filter(Period(up_to_year)))

    def _stock_until(self, year: int, month: int) -> int:
        return sum(kg for (y, m), kg in self.movement.items() if (y, m) <= (year, month))

    def year_row(self, period: Period) -> YearRow:
        """The period's figures, with the stock at its end."""
        totals = sum((t for (y, m), t in self.flows.items() if y == period.year and m <= period.last_month),
                     FlowTotals())
        return YearRow(period.year, totals, self._stock_until(period.year, period.last_month), period)

    def months(self, period: Period) -> list[MonthRow]:
        """January to the period's last month, with the stock at the end of each month."""
        stock = self._stock_until(period.year - 1, 12)
        rows = []
        for month in range(1, period.last_month + 1):
            stock += self.movement.get((period.year, month), 0)
            rows.append(MonthRow(month, self.flows.get((period.year, month), FlowTotals()), stock, month))
        return rows

    def years(self, today: date) -> list[YearRow]:
        """Each year with figures in the city, latest first; the current year to date (listed even when empty)."""
        years = sorted(set(years_with_data()) | {today.year}, reverse=True)
        return [self.year_row(Period.of(year, today)) for year in years]


def year_row(actor: User, part: Slice, period: Period) -> YearRow:
    """The slice's figures for one period, with the stock at its end."""
    return History(actor, part, period.year).year_row(period)


def overview(actor: User, today: date, part: Slice = CITY) -> list[YearRow]:
    """Each year with figures, latest first; the current year to date (listed even when empty)."""
    return History(actor, part, today.year).years(today)


def monthly(actor: User, part: Slice, period: Period) -> list[MonthRow]:
    """January to the period's last month, with the stock at the end of each month."""
    return History(actor, part, period.year).months(period)


def _order(dimension: str, rows: dict) -> list:
    if dimension == "base":
        return [rows.get(b, Row(b)) for b in Base]
    if dimension == "sw_code":
        for code in KEY_CODES:
            rows.setdefault(code, Row(code))
    return sorted(rows.values(), key=lambda r: (-r.totals.generated, str(r.key)))


def breakdowns(actor: User, part: Slice, period: Period, dimensions) -> dict[str, list[Row]]:
    """The slice's figures by each of ``dimensions`` (bases in plan order, the rest largest
    generation first), all from one scan of the flows and one of the stock."""
    require_cockpit(actor)
    unknown = set(dimensions) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimension {sorted(unknown)!r}")
    flt = part.filter(period)
    flows, stocks = flows_by(flt, dimensions), closing_stocks_by(flt, dimensions)
    tables = {}
    for dimension in dimensions:
        flow, stock = flows[dimension], stocks[dimension]
        rows = {key: Row(key, flow.get(key, FlowTotals()), stock.get(key, 0)) for key in {*flow, *stock}}
        tables[dimension] = _order(dimension, rows)
    return tables


def breakdown(actor: User, part: Slice, period: Period, dimension: str) -> list[Row]:
    """The slice's figures by one dimension (see :func:`breakdowns`)."""
    return breakdowns(actor, part, period, (dimension,))[dimension]


# Labels --------------------------------------------------------------------------


def labels(dimension: str, keys) -> dict:
    """What each key of a dimension is called on a page: waste names, enterprise names…

    Bases and banners are named in the page's language by the templates (``base_name``,
    ``division_name``); here only what needs the database.
    """
    keys = list(keys)
    if dimension == "sw_code":
        return {c.sw_code: c for c in db.session.scalars(select(WasteCategory).where(WasteCategory.sw_code.in_(keys)))}
    if dimension == "enterprise":
        return {e.id: e for e in db.session.scalars(select(Enterprise).where(Enterprise.id.in_(keys or [-1])))}
    if dimension == "stream":
        return {s.id: s for s in db.session.scalars(select(WasteStream).where(WasteStream.id.in_(keys or [-1])))}
    return {}


# The league table ------------------------------------------------------------------


@dataclass(frozen=True)
class LeagueRow(Row):
    enterprise: Enterprise | None = None


def _rate_key(row: LeagueRow):
    return (row.rate is not None, row.rate or 0)  # enterprises without generation sort as the lowest


LEAGUE_SORTS = {
    "rate": _rate_key,
    "generated": lambda r: r.totals.generated,
    "utilised": lambda r: r.totals.utilised,
    "disposed": lambda r: r.totals.disposed,
    "stock": lambda r: r.stock_kg,
    "name": lambda r: r.enterprise.name,
}
LEAGUE_DEFAULT = "rate"  # the lowest rates first: where the gap is


def league_rows(actor: User, part: Slice, period: Period, sort: str | None, q: str = "",
                rows: list[Row] | None = None) -> tuple[list[LeagueRow], str]:
    """Enterprises with figures in the period, sorted by an allow-listed key (``-key``: descending),
    and the sort key actually used (an unknown one falls back to the default).

    ``rows``: the slice's breakdown by enterprise when the caller already has it (from :func:`breakdowns`).
    """
    require_cockpit(actor)
    if rows is None:
        rows = breakdown(actor, part, period, "enterprise")
    stmt = select(Enterprise).where(Enterprise.id.in_([r.key for r in rows] or [-1]))
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(Enterprise.name.ilike(pattern, escape="\\") | Enterprise.credit_code.ilike(pattern, escape="\\"))
    enterprises = {e.id: e for e in db.session.scalars(stmt)}
    listed = [LeagueRow(r.key, r.totals, r.stock_kg, enterprises[r.key]) for r in rows if r.key in enterprises]
    key = sort if (sort or "").lstrip("-") in LEAGUE_SORTS else LEAGUE_DEFAULT
    listed.sort(key=lambda r: (LEAGUE_SORTS[key.lstrip("-")](r), r.enterprise.name), reverse=key.startswith("-"))
    return listed, key


def league(actor: User, part: Slice, period: Period, sort: str | None, page: int | None, per_page: int,
           q: str = "", rows: list[Row] | None = None) -> Page[LeagueRow]:
    """One page of the league table (sorting happens on the aggregated figures, hence in Python)."""
    listed, key = league_rows(actor, part, period, sort, q, rows)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    pages = max(1, -(-len(listed) // per_page))
    page = max(1, min(page or 1, pages))
    return Page(listed[(page - 1) * per_page: page * per_page], page, per_page, len(listed), key)


# One enterprise ----------------------------------------------------------------------


@dataclass
class EnterpriseFigures:
    enterprise: Enterprise
    total: Row
    streams: list[Row]                       # key: stream id (0: entries without a stream)
    stream_names: dict[int, WasteStream]
    months: list[MonthRow]
    rate_by_stream_month: dict[int, dict[int, Decimal | None]]


def enterprise_figures(actor: User, enterprise_id: int, period: Period) -> EnterpriseFigures:
    """One enterprise's rate by stream and by month (its row of the league table, opened up)."""
    require_cockpit(actor)
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_("No such enterprise."))
    part = Slice("enterprise", enterprise.id)
    flt = part.filter(period)
    by_stream = flow_by(flt, "stream")
    stock = closing_stock_by(flt, "stream")
    streams = sorted((Row(key[1], by_stream.get(key, FlowTotals()), stock.get(key, 0)) for key in {*by_stream, *stock}),
                     key=lambda r: (-r.totals.generated, r.key))
    grid: dict[int, dict[int, Decimal | None]] = {}
    for (_eid, stream_key, month), totals in flow_by(flt, "stream_month").items():
        grid.setdefault(stream_key, {})[month] = totals.utilisation_rate
    total = Row(enterprise.id, sum((r.totals for r in streams), FlowTotals()), sum(r.stock_kg for r in streams))
    return EnterpriseFigures(enterprise, total, streams, labels("stream", [r.key for r in streams]),
                             monthly(actor, part, period), grid)


def enterprises_by_code(codes) -> dict[str, Enterprise]:
    """Registered enterprises by credit code (receivers named on shipments)."""
    codes = list(codes)
    return {e.credit_code: e for e in db.session.scalars(select(Enterprise).where(Enterprise.credit_code.in_(codes or [""])))}


def recent_entries(actor: User, enterprise_id: int, first: date, last: date, limit: int) -> list[LedgerEntry]:
    """The enterprise's latest ledger entries dated within ``first`` … ``last`` (each opens its entry page)."""
    require_cockpit(actor)
    e = LedgerEntry
    return list(db.session.scalars(
        select(e).where(e.enterprise_id == enterprise_id, e.period_date.between(first, last))
        .order_by(e.period_date.desc(), e.seq.desc()).limit(limit).options(selectinload(e.stream))))
