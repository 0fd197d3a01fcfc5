"""The last twelve complete months of the ledger, as the planner, the anomaly scan and 以渣定产 read them.

"The coming year" is expected to look like the last twelve complete months
(the current month is still being recorded). Flows come from the ledger's
monthly totals through :mod:`wasteex.ledger.stats`; stock and receipts,
which the flow figures do not carry, are summed here from the same table.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from wasteex.extensions import db
from wasteex.ledger.models import EntryKind, MonthlyTotal
from wasteex.ledger.rates import FlowTotals
from wasteex.ledger.stats import StatsFilter, flow_by

Month = tuple[int, int]


def month_index(month: Month) -> int:
    """Months since year 0, so that months compare and subtract as integers."""
    return month[0] * 12 + month[1] - 1


def month_of(index: int) -> Month:
    return index // 12, index % 12 + 1


def month_label(month: Month) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


@dataclass(frozen=True)
class Window:
    """Consecutive calendar months, ``first`` to ``last`` inclusive."""

    first: Month
    last: Month

    @classmethod
    def before(cls, today: date, months: int = 12) -> Window:
        """The ``months`` complete months before ``today``'s month."""
        last = month_index((today.year, today.month)) - 1
        return cls(month_of(last - months + 1), month_of(last))

    @property
    def months(self) -> list[Month]:
        return [month_of(i) for i in range(month_index(self.first), month_index(self.last) + 1)]

    @property
    def label(self) -> str:
        return f"{month_label(self.first)} – {month_label(self.last)}"

    def clause(self):
        """SQL: a monthly total falls inside the window."""
        index = MonthlyTotal.year * 12 + MonthlyTotal.month - 1
        return index.between(month_index(self.first), month_index(self.last))

    def flows(self, group: str) -> dict:
        """FlowTotals per ``group`` (a :data:`wasteex.ledger.stats.GROUPS` key) summed over the window."""
        totals: dict = defaultdict(FlowTotals)
        for year, month in self.months:
            for key, figures in flow_by(StatsFilter(year=year, month=month), group).items():
                totals[key] = totals[key] + figures
        return dict(totals)

    def received_by_enterprise(self) -> dict[int, int]:
        """Kilograms each utiliser recorded as received (接收) in the window."""
        t = MonthlyTotal
        rows = db.session.execute(select(t.enterprise_id, func.sum(t.quantity_kg))
                                  .where(self.clause(), t.kind == EntryKind.RECEIVED).group_by(t.enterprise_id))
        return {enterprise_id: int(kg) for enterprise_id, kg in rows}


def stock_by_stream(through: Month) -> dict[int, int]:
    """Storage stock per stream at the end of ``through``: every storage in minus out up to then."""
    t = MonthlyTotal
    signed = func.sum(case((t.kind == EntryKind.STORAGE_IN, t.quantity_kg), else_=-t.quantity_kg))
    index = t.year * 12 + t.month - 1
    rows = db.session.execute(select(t.stream_key, signed).where(
        t.kind.in_((EntryKind.STORAGE_IN, EntryKind.STORAGE_OUT)), t.stream_key != 0,
        index <= month_index(through)).group_by(t.stream_key))
    return {stream_id: int(kg) for stream_id, kg in rows}


def stock_changes(window: Window) -> dict[int, dict[Month, int]]:
    """Net storage in minus out per stream and month of ``window`` (months without movement absent)."""
    t = MonthlyTotal
    signed = func.sum(case((t.kind == EntryKind.STORAGE_IN, t.quantity_kg), else_=-t.quantity_kg))
    rows = db.session.execute(select(t.stream_key, t.year, t.month, signed).where(
        t.kind.in_((EntryKind.STORAGE_IN, EntryKind.STORAGE_OUT)), t.stream_key != 0, window.clause())
        .group_by(t.stream_key, t.year, t.month))
    changes: dict[int, dict[Month, int]] = defaultdict(dict)
    for stream_id, year, month, kg in rows:
        changes[stream_id][(year, month)] = int(kg)
    return dict(changes)
