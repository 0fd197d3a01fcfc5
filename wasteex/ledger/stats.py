"""Flow totals and the official utilisation rate, aggregated in SQL from the monthly totals.

Only the producing side counts towards the rate (generation and what became
of it); what utilisers record as received is their own flow, so tonnage sent
from one enterprise to another is never counted twice.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select

from wasteex.enterprises.models import Enterprise
from wasteex.extensions import db
from wasteex.geo import Base
from wasteex.ledger.models import EntryKind, MonthlyTotal
from wasteex.ledger.rates import FlowTotals

TARGET_RATE = "0.8"

# (kind, from prior storage) → the FlowTotals fields the quantity adds to (sign per field).
CONTRIBUTIONS: dict[tuple[EntryKind, bool], tuple[tuple[str, int], ...]] = {
    (EntryKind.GENERATION, False): (("generated", 1),),
    (EntryKind.STORAGE_IN, False): (("stored", 1),),
    (EntryKind.STORAGE_OUT, False): (("stored", -1),),
    (EntryKind.DUMPED, False): (("dumped", 1),),
    (EntryKind.RETURNED, False): (("stored", 1),),
    (EntryKind.IN_TRANSIT, False): (("in_transit", 1),),
}
for _kind, _field, _prior_field in (
    (EntryKind.SELF_UTILISATION, "self_utilised", "utilised_from_prior_storage"),
    (EntryKind.ENTRUSTED_UTILISATION, "entrusted_utilised", "utilised_from_prior_storage"),
    (EntryKind.SELF_DISPOSAL, "self_disposed", "disposed_from_prior_storage"),
    (EntryKind.ENTRUSTED_DISPOSAL, "entrusted_disposed", "disposed_from_prior_storage"),
):
    CONTRIBUTIONS[(_kind, False)] = ((_field, 1),)
    CONTRIBUTIONS[(_kind, True)] = ((_field, 1), (_prior_field, 1))
FLOW_KINDS = sorted({kind for kind, _prior in CONTRIBUTIONS}, key=lambda k: k.value)
STOCK_INWARD = (EntryKind.STORAGE_IN, EntryKind.RETURNED)  # refused tonnes go back into storage
STOCK_KINDS = (*STOCK_INWARD, EntryKind.STORAGE_OUT)


@dataclass(frozen=True)
class StatsFilter:
    year: int
    month: int | None = None          # one month
    through_month: int | None = None  # year to date: January to this month
    base: Base | None = None
    division_code: str | None = None
    sw_code: str | None = None
    enterprise_ids: tuple[int, ...] | None = None  # None: every enterprise
    stream_id: int | None = None
    industry: str | None = None  # Enterprise.industry, exactly as registered


def _where(flt: StatsFilter, period: bool = True) -> list:
    t = MonthlyTotal
    clauses = []
    if period:
        clauses.append(t.year == flt.year)
        if flt.month:
            clauses.append(t.month == flt.month)
        elif flt.through_month:
            clauses.append(t.month <= flt.through_month)
    if flt.base is not None:
        clauses.append(t.base == flt.base)
    if flt.division_code:
        clauses.append(t.division_code == flt.division_code)
    if flt.sw_code:
        clauses.append(t.sw_code == flt.sw_code)
    if flt.enterprise_ids is not None:
        clauses.append(t.enterprise_id.in_(flt.enterprise_ids or (-1,)))
    if flt.stream_id is not None:
        clauses.append(t.stream_key == flt.stream_id)
    if flt.industry is not None:
        clauses.append(t.enterprise_id.in_(select(Enterprise.id).where(Enterprise.industry == flt.industry)))
    return clauses


def _accumulate(rows) -> dict:
    """rows of (group key, kind, from_prior, kg) → {group key: FlowTotals}."""
    by_kind: dict = defaultdict(int)
    for key, kind, prior, kg in rows:  # many rows per key when finer groupings are rolled up
        by_kind[key, kind, prior] += int(kg)
    sums: dict = defaultdict(lambda: defaultdict(int))
    for (key, kind, prior), kg in by_kind.items():
        for field_name, sign in CONTRIBUTIONS.get((kind, prior), ()):
            sums[key][field_name] += sign * kg
    return {key: FlowTotals(**values) for key, values in sums.items()}


def flow_totals(flt: StatsFilter) -> FlowTotals:
    return flow_by(flt, None).get(None, FlowTotals())


GROUPS = {
    "enterprise": (MonthlyTotal.enterprise_id,),
    "stream": (MonthlyTotal.enterprise_id, MonthlyTotal.stream_key),
    "sw_code": (MonthlyTotal.sw_code,),
    "base": (MonthlyTotal.base,),
    "division": (MonthlyTotal.division_code,),
    "month": (MonthlyTotal.month,),
    "stream_month": (MonthlyTotal.enterprise_id, MonthlyTotal.stream_key, MonthlyTotal.month),
    "base_month": (MonthlyTotal.base, MonthlyTotal.month),
    # The enterprise's registered industry: the one grouping that joins another table.
    "industry": (Enterprise.industry,),
}


def _grouped(columns: tuple, *aggregates):
    """SELECT columns + aggregates FROM the monthly totals, joined to the enterprise when a column needs it."""
    stmt = select(*columns, *aggregates).select_from(MonthlyTotal)
    if any(getattr(c, "table", None) is Enterprise.__table__ for c in columns):
        stmt = stmt.join(Enterprise, Enterprise.id == MonthlyTotal.enterprise_id)
    return stmt.group_by(*columns)


def _columns(groups) -> tuple:
    """The union of the groups' columns, in first-seen order (one query serves them all)."""
    return tuple(dict.fromkeys(column for group in groups if group for column in GROUPS[group]))


def _projector(group: str | None, columns: tuple):
    """row → the group's key (None without a group) from a row over ``columns``."""
    if not group:
        return lambda row: None
    at = [columns.index(column) for column in GROUPS[group]]
    if len(at) == 1:
        return lambda row: row[at[0]]
    return lambda row: tuple(row[i] for i in at)


def flows_by(flt: StatsFilter, groups) -> dict:
    """{group: {key: FlowTotals}} for several groupings at once (None: the overall total under key None).

    Why several at once: a cockpit page shows the same slice by base, banner, waste code and
    industry. One scan grouped by all their columns, rolled up here per grouping, costs what one
    of them did (the rows it returns are a few thousand at most: the columns' combinations
    that occur, times the kinds).
    """
    t = MonthlyTotal
    groups = tuple(dict.fromkeys(groups))
    columns = _columns(groups)
    stmt = (_grouped(columns, t.kind, t.from_prior_storage, func.sum(t.quantity_kg))
            .where(*_where(flt), t.kind.in_(FLOW_KINDS))
            .group_by(t.kind, t.from_prior_storage))
    rows = db.session.execute(stmt).all()
    width = len(columns)
    return {group: _accumulate((key(r), r[width], r[width + 1], r[width + 2]) for r in rows)
            for group, key in ((g, _projector(g, columns)) for g in groups)}


def flow_by(flt: StatsFilter, group: str | None) -> dict:
    """FlowTotals per group (``None``: one overall total under the key None)."""
    return flows_by(flt, (group,))[group]


def _signed_stock():
    t = MonthlyTotal
    return func.sum(case((t.kind.in_(STOCK_INWARD), t.quantity_kg), else_=-t.quantity_kg))


def _rolled_up(rows, groups, columns) -> dict:
    """rows of (columns…, kg) → {group: {key: kg}} summed per group."""
    width = len(columns)
    result = {}
    for group in groups:
        key, sums = _projector(group, columns), defaultdict(int)
        for row in rows:
            sums[key(row)] += int(row[width] or 0)
        result[group] = dict(sums)
    return result


def closing_stock_kg(flt: StatsFilter) -> int:
    """Storage stock at the end of the filter's period: all storage in minus out up to then."""
    return closing_stock_by(flt, None).get(None, 0)


def closing_stocks_by(flt: StatsFilter, groups) -> dict:
    """{group: {key: closing stock kg}} at the end of the filter's period, several groupings from one scan.

    Groups without any storage movement are absent. A ``month`` grouping makes no
    sense here (stock is cumulative): :func:`months_up_to` gives the stock month by month.
    """
    t = MonthlyTotal
    groups = tuple(dict.fromkeys(groups))
    columns = _columns(groups)
    last_month = flt.month or flt.through_month or 12
    up_to = or_(t.year < flt.year, and_(t.year == flt.year, t.month <= last_month))
    stmt = _grouped(columns, _signed_stock()).where(*_where(flt, period=False), up_to, t.kind.in_(STOCK_KINDS))
    return _rolled_up(db.session.execute(stmt).all(), groups, columns)


def closing_stock_by(flt: StatsFilter, group: str | None) -> dict:
    """Closing stock (kg) per group at the end of the filter's period (``None``: one total under None)."""
    return closing_stocks_by(flt, (group,))[group]


def months_up_to(flt: StatsFilter) -> tuple[dict, dict]:
    """Every month of every year up to the filter's: ({(year, month): FlowTotals}, {(year, month): net stock kg}).

    The filter's period fields are ignored: this is the whole history of its slice, from one
    scan, so that a page showing each year's rate, this year's months and the stock at the end
    of each of them (the stock is cumulative from the first entry) does not scan it once per figure.
    """
    t = MonthlyTotal
    stmt = (select(t.year, t.month, t.kind, t.from_prior_storage, func.sum(t.quantity_kg))
            .where(*_where(flt, period=False), t.year <= flt.year)
            .group_by(t.year, t.month, t.kind, t.from_prior_storage))
    rows = db.session.execute(stmt).all()
    movement: dict = defaultdict(int)
    for year, month, kind, _prior, kg in rows:
        if kind in STOCK_KINDS:
            movement[(year, month)] += int(kg) if kind in STOCK_INWARD else -int(kg)
    return _accumulate(((year, month), kind, prior, kg) for year, month, kind, prior, kg in rows), dict(movement)
