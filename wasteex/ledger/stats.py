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
    sums: dict = defaultdict(lambda: defaultdict(int))
    for key, kind, prior, kg in rows:
        for field_name, sign in CONTRIBUTIONS.get((kind, prior), ()):
            sums[key][field_name] += sign * int(kg)
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


def _keyed(rows, width: int) -> dict:
    """rows of (group columns…, value) → {group key: int}; the key is None without a group."""
    def key(row):
        if width == 0:
            return None
        return row[0] if width == 1 else tuple(row[:width])

    return {key(row): int(row[width] or 0) for row in rows}


def flow_by(flt: StatsFilter, group: str | None) -> dict:
    """FlowTotals per group (``None``: one overall total under the key None)."""
    t = MonthlyTotal
    columns = GROUPS[group] if group else ()
    stmt = (_grouped(columns, t.kind, t.from_prior_storage, func.sum(t.quantity_kg))
            .where(*_where(flt), t.kind.in_(FLOW_KINDS))
            .group_by(t.kind, t.from_prior_storage))
    rows = db.session.execute(stmt).all()
    width = len(columns)

    def key(row):
        if width == 0:
            return None
        return row[0] if width == 1 else tuple(row[:width])

    return _accumulate((key(r), r[width], r[width + 1], r[width + 2]) for r in rows)


def _signed_stock():
    t = MonthlyTotal
    return func.sum(case((t.kind.in_(STOCK_INWARD), t.quantity_kg), else_=-t.quantity_kg))


def closing_stock_kg(flt: StatsFilter) -> int:
    """Storage stock at the end of the filter's period: all storage in minus out up to then."""
    return closing_stock_by(flt, None).get(None, 0)


def closing_stock_by(flt: StatsFilter, group: str | None) -> dict:
    """Closing stock (kg) per group at the end of the filter's period (``None``: one total under None).

    Groups without any storage movement are absent. A ``month`` grouping makes no
    sense here (stock is cumulative): use :func:`stock_movement_by` for monthly changes.
    """
    t = MonthlyTotal
    columns = GROUPS[group] if group else ()
    last_month = flt.month or flt.through_month or 12
    up_to = or_(t.year < flt.year, and_(t.year == flt.year, t.month <= last_month))
    stmt = _grouped(columns, _signed_stock()).where(*_where(flt, period=False), up_to, t.kind.in_(STOCK_KINDS))
    return _keyed(db.session.execute(stmt).all(), len(columns))


def stock_movement_by(flt: StatsFilter, group: str | None) -> dict:
    """Net storage in minus out (kg) per group within the filter's period, prior years' stock included.

    Unlike ``FlowTotals.stored`` (the period's own generation put into storage), this is what
    the stock itself did, so an opening stock plus the running sum of it gives the stock at the
    end of each month.
    """
    t = MonthlyTotal
    columns = GROUPS[group] if group else ()
    stmt = _grouped(columns, _signed_stock()).where(*_where(flt), t.kind.in_(STOCK_KINDS))
    return _keyed(db.session.execute(stmt).all(), len(columns))
