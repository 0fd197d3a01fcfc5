"""Ledger figures for the planner, anomaly and 以渣定产 tests (not a test module).

Entries go through the real ledger service, so monthly totals and hash chains
are what the application itself would have written.
"""
from __future__ import annotations

from datetime import date

from wasteex.enterprises.models import FacilityKind
from wasteex.extensions import db
from wasteex.ledger.service import EntryInput, record_entry
from wasteex.regulator.window import Window, month_of, month_index

FACILITIES = (("CS-01", FacilityKind.GENERATION), ("ZC-01", FacilityKind.STORAGE),
              ("LY-01", FacilityKind.SELF_UTILISATION), ("CZ-01", FacilityKind.SELF_DISPOSAL))
TODAY = date(2025, 11, 20)  # the window is 2024-11 … 2025-10


def months_back(n: int, today: date = TODAY) -> date:
    """The 15th of the month ``n`` months before ``today``'s (1: the last complete month)."""
    year, month = month_of(month_index((today.year, today.month)) - n)
    return date(year, month, 15)


def window_days(today: date = TODAY) -> list[date]:
    return [date(y, m, 15) for y, m in Window.before(today).months]


def record_month(actor, enterprise, stream, day: date, generated_t: int, *, self_used_t: int = 0,
                 stored_t: int = 0, landfill_t: int | None = None) -> None:
    """One balanced month: generation, own use, storage and the rest landfilled (unless ``landfill_t``)."""
    rest = generated_t - self_used_t - stored_t if landfill_t is None else landfill_t
    lines = [EntryInput("generation", day, str(generated_t), "李班长", stream.id, facility_code="CS-01")]
    if self_used_t:
        lines.append(EntryInput("self_utilisation", day, str(self_used_t), "李班长", stream.id,
                                facility_code="LY-01", route_key="autoclaved_brick"))
    if stored_t:
        lines.append(EntryInput("storage_in", day, str(stored_t), "李班长", stream.id, facility_code="ZC-01"))
    if rest:
        lines.append(EntryInput("self_disposal", day, str(rest), "李班长", stream.id, facility_code="CZ-01",
                                route_key="landfill_class_ii"))
    for line in lines:
        record_entry(actor, enterprise.id, line)
    db.session.commit()
