"""Read-side queries of the ledger pages: filters, correction history, 附表2 rows, the overview.

Kept out of the views so that they take the actor as a parameter and can serve
the API or an export as well; nothing here writes.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from wasteex.accounts.models import User
from wasteex.enterprises.models import Enterprise
from wasteex.extensions import db
from wasteex.geo import BASE_OF_DIVISION
from wasteex.ledger.models import EntryKind, LedgerChain, LedgerEntry
from wasteex.ledger.rates import FlowTotals
from wasteex.ledger.stats import StatsFilter, closing_stock_kg, flow_by
from wasteex.listing import Page, Sorts, like_pattern, paginate
from wasteex.streams import service as streams


@dataclass
class EntryFilter:
    year: int | None = None
    month: int | None = None
    kind: str = ""
    stream: int | None = None


def filtered(stmt, flt: EntryFilter):
    """Narrow a select of entries to the filter, loading what the list shows."""
    if flt.year:
        first, last = (flt.month or 1), (flt.month or 12)
        stmt = stmt.where(LedgerEntry.period_date.between(
            date(flt.year, first, 1), date(flt.year, last, calendar.monthrange(flt.year, last)[1])))
    if flt.kind:
        stmt = stmt.where(LedgerEntry.kind == EntryKind(flt.kind))
    if flt.stream:
        stmt = stmt.where(LedgerEntry.stream_id == flt.stream)
    return stmt.options(selectinload(LedgerEntry.stream), selectinload(LedgerEntry.facility),
                        selectinload(LedgerEntry.route), selectinload(LedgerEntry.corrects))


def is_reversal(entry: LedgerEntry) -> bool:
    return entry.corrects_id is not None and entry.quantity_kg < 0


def corrected_ids(ids: list[int]) -> set[int]:
    """Which of these entries have been reversed."""
    if not ids:
        return set()
    return set(db.session.scalars(select(LedgerEntry.corrects_id).where(
        LedgerEntry.corrects_id.in_(ids), LedgerEntry.quantity_kg < 0)))


def history(item: LedgerEntry) -> list[LedgerEntry]:
    """The original entry and every correction made to it or to its replacements, in chain order."""
    root = item
    while root.corrects is not None:
        root = root.corrects
    found, frontier = [root], [root.id]
    while frontier:
        children = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.corrects_id.in_(frontier))))
        found += children
        frontier = [c.id for c in children if c.quantity_kg > 0]
    return sorted(found, key=lambda e: e.seq) if len(found) > 1 else []


# The flow summary (附表2) -----------------------------------------------------

@dataclass
class SummaryRow:
    month: int | None
    totals: FlowTotals
    closing_kg: int


@dataclass
class StreamSummary:
    stream: object
    rows: list[SummaryRow] = field(default_factory=list)
    total: SummaryRow | None = None


def flow_summary(actor: User, enterprise_id: int, year: int, month: int | None) -> list[StreamSummary]:
    """附表2 rows per stream and month, with each stream's total and closing stock."""
    known = {s.id: s for s in streams.streams_of(actor, enterprise_id)}
    flows = flow_by(StatsFilter(year=year, month=month, enterprise_ids=(enterprise_id,)), "stream_month")
    groups: dict[int, StreamSummary] = {}
    for (_eid, stream_key, m), totals in sorted(flows.items(), key=lambda item: item[0]):
        flt = StatsFilter(year=year, month=m, enterprise_ids=(enterprise_id,), stream_id=stream_key)
        group = groups.setdefault(stream_key, StreamSummary(known.get(stream_key)))
        group.rows.append(SummaryRow(m, totals, closing_stock_kg(flt)))
    for stream_key, group in groups.items():
        flt = StatsFilter(year=year, month=month, enterprise_ids=(enterprise_id,), stream_id=stream_key)
        group.total = SummaryRow(None, sum((r.totals for r in group.rows), FlowTotals()), closing_stock_kg(flt))
    return list(groups.values())


def summary_total(groups: list[StreamSummary], year: int, month: int | None, enterprise_id: int) -> SummaryRow:
    base = StatsFilter(year=year, month=month, enterprise_ids=(enterprise_id,))
    return SummaryRow(None, sum((g.total.totals for g in groups), FlowTotals()), closing_stock_kg(base))


# The regulator's overview -----------------------------------------------------

def overview_page(actor: User, q: str, base: str, sort: str | None, page: int, per_page: int) -> Page:
    """Enterprises keeping a ledger (all of them for regulators, one's own otherwise)."""
    stmt = select(Enterprise).join(LedgerChain, LedgerChain.enterprise_id == Enterprise.id)
    columns = {"name": Enterprise.name, "division": Enterprise.division_code, "entries": LedgerChain.seq}
    if (sort or "").lstrip("-") == "last":  # the aggregate only when sorting by it
        last = (select(LedgerEntry.enterprise_id, func.max(LedgerEntry.period_date).label("last"))
                .group_by(LedgerEntry.enterprise_id).subquery())
        stmt = stmt.outerjoin(last, last.c.enterprise_id == Enterprise.id)
        columns["last"] = last.c.last
    if not actor.reads_everything:
        stmt = stmt.where(Enterprise.id.in_([m.enterprise_id for m in actor.memberships]))
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(or_(Enterprise.name.ilike(pattern, escape="\\"),
                              Enterprise.credit_code.ilike(pattern, escape="\\")))
    if base:
        codes = [code for code, b in BASE_OF_DIVISION.items() if b.value == base]
        stmt = stmt.where(Enterprise.division_code.in_(codes) if codes
                          else Enterprise.division_code.not_in(list(BASE_OF_DIVISION)))
    return paginate(stmt, Sorts(columns, default="name"), sort, page, per_page)


def last_entry_dates(ids: list[int]) -> dict[int, date]:
    return dict(db.session.execute(select(LedgerEntry.enterprise_id, func.max(LedgerEntry.period_date))
                                   .where(LedgerEntry.enterprise_id.in_(ids or [-1]))
                                   .group_by(LedgerEntry.enterprise_id)).all())


def chains(ids: list[int]) -> list[LedgerChain]:
    return list(db.session.scalars(select(LedgerChain).where(LedgerChain.enterprise_id.in_(ids or [-1]))))
