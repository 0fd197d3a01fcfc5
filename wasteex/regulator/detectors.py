"""Anomaly detectors: each reads the data and returns findings — plain values, nothing written.

Every finding names its subject with a stable ``key`` (per kind), so that
:func:`wasteex.regulator.anomalies.scan` can tell a known anomaly from a new
one; its evidence holds only figures and ids (no timestamps), so that equal
evidence means "nothing changed since".
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select

from wasteex.agreements.models import Agreement, AgreementStatus, Proposal, ProposalStatus
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise, EnterpriseStatus
from wasteex.extensions import db
from wasteex.ledger import chain_store
from wasteex.ledger.models import EntryKind, MonthlyTotal
from wasteex.ledger.stats import StatsFilter, flow_by
from wasteex.market.models import Demand, ListingStatus, Offer
from wasteex.regulator.models import AnomalyKind, UtilisationCapacity
from wasteex.regulator.window import Window, month_index, month_label, month_of, stock_by_stream, stock_changes
from wasteex.streams.models import WasteStream
from wasteex.transfers import queries as transfer_queries

RISING_MONTHS = 3  # storage growing this many months in a row is an anomaly
TRADING = (ListingStatus.OPEN, ListingStatus.PAUSED)  # published listings (a draft is not trading)


@dataclass(frozen=True)
class Finding:
    kind: AnomalyKind
    key: str
    enterprise_id: int
    evidence: dict
    stream_id: int | None = None
    period: str = ""


def unbalanced(window: Window, tolerance_kg: int) -> list[Finding]:
    """Stream-months whose 产生量 differs from its destinations by more than ``tolerance_kg``."""
    found, months = [], set(window.months)
    for year in sorted({year for year, _month in months}):
        for (enterprise_id, stream_id, month), totals in flow_by(StatsFilter(year=year), "stream_month").items():
            if stream_id == 0 or (year, month) not in months:
                continue
            difference = totals.balance_difference()
            if abs(difference) > tolerance_kg:
                label = month_label((year, month))
                found.append(Finding(AnomalyKind.BALANCE, f"{stream_id}:{label}", enterprise_id,
                                     {**{f"{name}_kg": kg for name, kg in asdict(totals).items()}, "difference_kg": difference}, stream_id, label))
    return found


def broken_chains(workers: int | None = None) -> list[Finding]:
    """Enterprises whose ledger hash chain does not verify (the ``flask ledger verify`` walk)."""
    found = []
    ids = chain_store.chained_enterprises()
    for enterprise_id, report in chain_store.verify_all(ids, workers=workers or os.cpu_count() or 1):
        if not report.ok:
            fault = report.broken
            found.append(Finding(AnomalyKind.CHAIN, str(enterprise_id), enterprise_id, {
                "entry_id": fault.id, "seq": fault.seq, "reason": str(fault.reason), "message": fault.message,
                "entries_checked": report.count}))
    return found


def missing_generation(window: Window) -> list[Finding]:
    """Months without generation for streams whose inventory declares some, since the enterprise's first entry."""
    t = MonthlyTotal
    index = t.year * 12 + t.month - 1
    first_month = dict(db.session.execute(select(t.enterprise_id, func.min(index)).group_by(t.enterprise_id)).all())
    recorded = {(stream, year, month) for stream, year, month in db.session.execute(
        select(t.stream_key, t.year, t.month).where(t.kind == EntryKind.GENERATION, window.clause()).distinct())}
    streams = db.session.execute(select(WasteStream.id, WasteStream.enterprise_id, WasteStream.expected_annual_kg)
                                 .where(WasteStream.active.is_(True), WasteStream.expected_annual_kg > 0)
                                 .order_by(WasteStream.id)).all()
    found = []
    for stream_id, enterprise_id, expected in streams:
        if enterprise_id not in first_month:
            continue  # keeps no ledger here yet: nothing to compare with
        for year, month in window.months:
            if month_index((year, month)) < first_month[enterprise_id] or (stream_id, year, month) in recorded:
                continue
            label = month_label((year, month))
            found.append(Finding(AnomalyKind.MISSING_GENERATION, f"{stream_id}:{label}", enterprise_id,
                                 {"expected_annual_kg": expected, "expected_monthly_kg": expected // 12},
                                 stream_id, label))
    return found


def rising_storage(window: Window, months: int = RISING_MONTHS) -> list[Finding]:
    """Runs of ``months`` or more consecutive months in which a stream's stock grew; one finding per run."""
    changes = stock_changes(window)
    opening = stock_by_stream(month_of(month_index(window.first) - 1))
    owners = dict(db.session.execute(select(WasteStream.id, WasteStream.enterprise_id)
                                     .where(WasteStream.id.in_(list(changes) or [-1]))).all())
    found = []
    for stream_id, by_month in sorted(changes.items()):
        stock, run = opening.get(stream_id, 0), []
        for month in window.months + [None]:  # None closes the last run
            change = by_month.get(month, 0) if month else 0
            if month and change > 0:
                stock += change
                run.append({"month": month_label(month), "change_kg": change, "stock_kg": stock})
                continue
            if len(run) >= months and stream_id in owners:
                found.append(Finding(AnomalyKind.STORAGE_RISING, f"{stream_id}:{run[0]['month']}", owners[stream_id],
                                     {"months": run, "rise_kg": sum(r["change_kg"] for r in run)},
                                     stream_id, run[0]["month"]))
            stock, run = stock + change, []
    return found


def over_capacity(years: list[int]) -> list[Finding]:
    """Utilisers that received more in a calendar year than the capacity they declare."""
    declared = dict(db.session.execute(select(UtilisationCapacity.enterprise_id, func.sum(UtilisationCapacity.kg_per_year))
                                       .group_by(UtilisationCapacity.enterprise_id)).all())
    t = MonthlyTotal
    rows = db.session.execute(select(t.enterprise_id, t.year, t.sw_code, func.sum(t.quantity_kg)).where(
        t.kind == EntryKind.RECEIVED, t.year.in_(years), t.enterprise_id.in_(list(declared) or [-1]))
        .group_by(t.enterprise_id, t.year, t.sw_code))
    received: dict[tuple[int, int], dict[str, int]] = {}
    for enterprise_id, year, code, kg in rows:
        received.setdefault((enterprise_id, year), {})[code] = int(kg)
    found = []
    for (enterprise_id, year), by_code in sorted(received.items()):
        total, capacity = sum(by_code.values()), int(declared[enterprise_id])
        if total > capacity:
            found.append(Finding(AnomalyKind.OVER_CAPACITY, f"{enterprise_id}:{year}", enterprise_id, {
                "received_kg": total, "received_by_code_kg": by_code, "declared_kg_per_year": capacity,
                "excess_kg": total - capacity}, None, str(year)))
    return found


def unverified_trading() -> list[Finding]:
    """Enterprises that are not verified yet have published listings, pending proposals or live agreements."""
    unverified = set(db.session.scalars(select(Enterprise.id).where(Enterprise.status != EnterpriseStatus.VERIFIED)))
    if not unverified:
        return []
    trading: dict[int, dict[str, list[int]]] = {}

    def note(enterprise_id: int, what: str, object_id: int) -> None:
        if enterprise_id in unverified:
            trading.setdefault(enterprise_id, {}).setdefault(what, []).append(object_id)

    for model, what in ((Offer, "offers"), (Demand, "demands")):
        for object_id, enterprise_id in db.session.execute(select(model.id, model.enterprise_id).where(
                model.enterprise_id.in_(list(unverified)), model.status.in_(TRADING)).order_by(model.id)):
            note(enterprise_id, what, object_id)
    for object_id, *parties in db.session.execute(select(
            Proposal.id, Proposal.offer_enterprise_id, Proposal.demand_enterprise_id).where(
            Proposal.status == ProposalStatus.PENDING, or_(Proposal.offer_enterprise_id.in_(list(unverified)),
                                                           Proposal.demand_enterprise_id.in_(list(unverified))))
            .order_by(Proposal.id)):
        for enterprise_id in set(parties):
            note(enterprise_id, "proposals", object_id)
    for object_id, *parties in db.session.execute(select(Agreement.id, Agreement.producer_id, Agreement.utiliser_id)
                                                  .where(Agreement.status == AgreementStatus.ACTIVE, or_(
                                                      Agreement.producer_id.in_(list(unverified)),
                                                      Agreement.utiliser_id.in_(list(unverified))))
                                                  .order_by(Agreement.id)):
        for enterprise_id in set(parties):
            note(enterprise_id, "agreements", object_id)
    return [Finding(AnomalyKind.UNVERIFIED_TRADING, str(enterprise_id), enterprise_id, evidence)
            for enterprise_id, evidence in sorted(trading.items())]


def flagged_slips(now: datetime) -> list[Finding]:
    """Transfer slips overdue or with a discrepancy (the transfers' own follow-up list), one finding per slip.

    The subject is the producer, who answers for the waste until the receiver
    has signed; the evidence names both parties and the flags.
    """
    found = []
    for flagged in transfer_queries.flagged_slips(now):
        slip = flagged.slip
        found.append(Finding(AnomalyKind.SLIP, str(slip.id), slip.producer_id, {
            "slip_id": slip.id, "number": slip.number, "flags": sorted(f.value for f in flagged.flags),
            "producer_id": slip.producer_id, "receiver_id": slip.receiver_id, "planned_kg": slip.planned_kg,
            "dispatched_kg": slip.dispatched_kg, "received_kg": slip.received_kg,
            "discrepancy_kg": slip.discrepancy_kg}, None, month_label((slip.planned_on.year, slip.planned_on.month))))
    return found


def scan_all(today: date, tolerance_kg: int, workers: int | None = None) -> dict[AnomalyKind, list[Finding]]:
    """Every detector's findings, per kind (a kind present with no findings: all clear)."""
    window = Window.before(today)
    years = sorted({window.first[0], window.last[0], today.year})
    return {
        AnomalyKind.BALANCE: unbalanced(window, tolerance_kg),
        AnomalyKind.CHAIN: broken_chains(workers),
        AnomalyKind.MISSING_GENERATION: missing_generation(window),
        AnomalyKind.STORAGE_RISING: rising_storage(window),
        AnomalyKind.OVER_CAPACITY: over_capacity(years),
        AnomalyKind.UNVERIFIED_TRADING: unverified_trading(),
        AnomalyKind.SLIP: flagged_slips(utcnow()),
    }

