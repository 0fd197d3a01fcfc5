"""The anomaly detectors on real ledger and market data, the idempotent scan, and inspectors' handling."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import make_facility
from tests.services.planning_data import FACILITIES, TODAY, months_back, record_month, window_days
from tests.services.test_ledger_cli import tamper  # noqa: F401 - fixture
from tests.services.test_market_service import market, new_offer  # noqa: F401 - fixture
from wasteex.audit.models import AuditEvent
from wasteex.enterprises.models import EnterpriseStatus
from wasteex.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.ledger.models import LedgerEntry
from wasteex.ledger.service import EntryInput, record_entry
from wasteex.regulator import anomalies, capacities, detectors
from wasteex.regulator.models import Anomaly, AnomalyKind, AnomalyStatus
from wasteex.regulator.window import Window

WINDOW = Window.before(TODAY)


@pytest.fixture
def ledgered(market):
    """A's fly-ash stream with facilities; nothing recorded yet."""
    for code, kind in FACILITIES:
        make_facility(market.site_a, code, kind)
    return market


def kinds(found) -> list[tuple[str, str]]:
    return [(f.key, f.period) for f in found]


def scan():
    report = anomalies.scan(TODAY, workers=1)
    db.session.commit()
    return report


def test_an_unbalanced_stream_month_is_found_with_its_figures(ledgered):
    w = ledgered
    record_month(w.alice, w.a, w.stream, months_back(2), 1000, self_used_t=200, stored_t=300)
    record_month(w.alice, w.a, w.stream, months_back(1), 1000, self_used_t=200, stored_t=300, landfill_t=400)
    (finding,) = detectors.unbalanced(WINDOW, tolerance_kg=0)
    assert (finding.key, finding.period, finding.stream_id) == (f"{w.stream.id}:2025-10", "2025-10", w.stream.id)
    assert finding.evidence["difference_kg"] == 100_000 and finding.evidence["generated_kg"] == 1_000_000
    assert detectors.unbalanced(WINDOW, tolerance_kg=100_000) == []


def test_months_without_generation_since_the_ledger_began_are_found(ledgered):
    w = ledgered
    for n in (5, 4, 2, 1):  # nothing in month 3; the months before month 5 precede the ledger
        record_month(w.alice, w.a, w.stream, months_back(n), 1000)
    found = detectors.missing_generation(WINDOW)
    assert kinds(found) == [(f"{w.stream.id}:2025-08", "2025-08")]
    assert found[0].evidence == {"expected_annual_kg": 10**8, "expected_monthly_kg": 10**8 // 12}


def test_storage_rising_three_months_in_a_row_is_one_finding(ledgered):
    w = ledgered
    for n, stored in ((6, 100), (5, 100), (4, 0), (3, 100), (2, 50), (1, 10)):
        record_month(w.alice, w.a, w.stream, months_back(n), 1000, stored_t=stored)
    (finding,) = detectors.rising_storage(WINDOW)
    assert finding.key == f"{w.stream.id}:2025-08" and finding.evidence["rise_kg"] == 160_000
    assert [m["stock_kg"] for m in finding.evidence["months"]] == [300_000, 350_000, 360_000]


def test_a_utiliser_receiving_more_than_it_declared_is_found(ledgered):
    w = ledgered
    capacities.create_capacity(w.carol, w.c.id, {"site_id": w.site_c.id, "route_key": "cement_admixture",
                                                 "sw_codes": ["SW02"], "tonnes_per_year": "1000", "max_km": 50})
    for day in window_days()[-2:]:
        record_entry(w.carol, w.c.id, EntryInput("received", day, "600", "收料员", sw_code="SW02",
                                                 counterparty_name=w.a.name, counterparty_credit_code=w.a.credit_code,
                                                 carrier_name="通达物流", plate_number="蒙K12345", contract_number="HT-1"))
    db.session.commit()
    (finding,) = detectors.over_capacity([2025])
    assert (finding.enterprise_id, finding.period) == (w.c.id, "2025")
    assert finding.evidence == {"received_kg": 1_200_000, "received_by_code_kg": {"SW02": 1_200_000},
                                "declared_kg_per_year": 1_000_000, "excess_kg": 200_000}


def test_an_unverified_enterprise_with_a_published_offer_is_found(ledgered):
    w = ledgered
    offer = new_offer(w)
    assert detectors.unverified_trading() == []
    w.a.status = EnterpriseStatus.PENDING
    db.session.commit()
    (finding,) = detectors.unverified_trading()
    assert finding.enterprise_id == w.a.id and finding.evidence == {"offers": [offer.id]}


def test_a_broken_ledger_chain_is_found(ledgered, tamper):
    w = ledgered
    record_month(w.alice, w.a, w.stream, months_back(1), 1000)
    assert detectors.broken_chains(workers=1) == []
    entry_id = db.session.scalar(select(func.min(LedgerEntry.id)))
    tamper(("UPDATE ledger_entry SET quantity_kg = 1 WHERE id = :id", {"id": entry_id}))
    (finding,) = detectors.broken_chains(workers=1)
    assert finding.enterprise_id == w.a.id and finding.evidence["entry_id"] == entry_id


# The scan ------------------------------------------------------------------------

def test_the_scan_is_idempotent_and_keeps_history(ledgered):
    w = ledgered
    record_month(w.alice, w.a, w.stream, months_back(1), 1000, stored_t=100, landfill_t=800)
    first = scan()
    assert (first.created, first.by_kind["balance"]) == (1, 1)
    again = scan()
    assert (again.created, again.refreshed) == (0, 1)
    (anomaly,) = db.session.scalars(select(Anomaly)).all()
    assert anomaly.kind is AnomalyKind.BALANCE and anomaly.status is AnomalyStatus.OPEN
    assert [e.to_status for e in anomaly.events] == [AnomalyStatus.OPEN]


def test_a_closed_anomaly_stays_closed_until_its_figures_change(ledgered):
    w = ledgered
    record_month(w.alice, w.a, w.stream, months_back(1), 1000, stored_t=100, landfill_t=800)
    scan()
    anomaly = db.session.scalar(select(Anomaly))
    anomalies.change_status(w.regulator, anomaly.id, "closed", "称重误差，企业已说明")
    db.session.commit()
    assert scan().reopened == 0 and anomaly.status is AnomalyStatus.CLOSED
    record_entry(w.alice, w.a.id, EntryInput("storage_in", months_back(1), "50", "李班长", w.stream.id,
                                             facility_code="ZC-01"))
    db.session.commit()
    assert scan().reopened == 1
    db.session.refresh(anomaly)
    assert anomaly.status is AnomalyStatus.OPEN and anomaly.evidence["difference_kg"] == 50_000
    assert [(e.from_status, e.to_status, e.actor_id) for e in anomaly.events] == [
        (None, AnomalyStatus.OPEN, None), (AnomalyStatus.OPEN, AnomalyStatus.CLOSED, w.regulator.id),
        (AnomalyStatus.CLOSED, AnomalyStatus.OPEN, None)]


def test_an_anomaly_no_longer_found_is_closed_by_the_scan(ledgered):
    w = ledgered
    record_month(w.alice, w.a, w.stream, months_back(1), 1000, stored_t=100, landfill_t=800)
    scan()
    record_entry(w.alice, w.a.id, EntryInput("storage_in", months_back(1), "100", "李班长", w.stream.id,
                                             facility_code="ZC-01"))
    db.session.commit()
    report = scan()
    assert report.closed == 1
    anomaly = db.session.scalar(select(Anomaly))
    assert anomaly.status is AnomalyStatus.CLOSED and anomaly.events[-1].actor_id is None


# Handling ------------------------------------------------------------------------

@pytest.fixture
def filed(ledgered):
    record_month(ledgered.alice, ledgered.a, ledgered.stream, months_back(1), 1000, landfill_t=900)
    scan()
    ledgered.anomaly = db.session.scalar(select(Anomaly))
    return ledgered


def test_only_regulators_handle_anomalies(filed):
    w = filed
    for refused in (w.admin, w.alice, w.bob):
        with pytest.raises((PermissionDenied, NotFound)):
            anomalies.change_status(refused, w.anomaly.id, "under_review", "")
    with pytest.raises(NotFound):
        anomalies.get_anomaly(w.alice, w.anomaly.id)
    with pytest.raises(PermissionDenied):
        anomalies.worklist(w.alice, anomalies.AnomalyFilter(), None, 1, 20)
    anomalies.change_status(w.regulator, w.anomaly.id, "under_review", "约谈企业")
    db.session.commit()
    assert w.anomaly.handled_by_id == w.regulator.id and w.anomaly.handled_at is not None
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "anomaly.under_review")).all()
    assert (event.actor_id, event.enterprise_id, event.data["note"]) == (w.regulator.id, w.a.id, "约谈企业")


def test_closing_needs_a_note_and_transitions_are_checked(filed):
    w = filed
    with pytest.raises(ValidationFailed) as refused:
        anomalies.change_status(w.regulator, w.anomaly.id, "closed", "  ")
    assert "note" in refused.value.fields
    with pytest.raises(InvalidTransition):
        anomalies.change_status(w.regulator, w.anomaly.id, "open", "")
    with pytest.raises(ValidationFailed):
        anomalies.change_status(w.regulator, w.anomaly.id, "resolved", "")


def test_the_worklist_filters(filed):
    w = filed
    def ids(**kwargs):
        return [a.id for a in anomalies.worklist(w.admin, anomalies.AnomalyFilter(**kwargs), None, 1, 20).items]

    assert ids() == [w.anomaly.id]
    assert ids(kind="chain") == [] and ids(kind="balance") == [w.anomaly.id]
    assert ids(base="jungar") == [w.anomaly.id] and ids(base="otog") == []
    assert ids(q=w.a.name[:2]) == [w.anomaly.id] and ids(q="无此企业") == []
    assert ids(period="2025") == [w.anomaly.id] and ids(period="2024") == []
    assert ids(status="closed") == [] and ids(status="") == [w.anomaly.id]
    assert anomalies.counts(w.regulator) == {"balance": 1}
