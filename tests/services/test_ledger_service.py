"""Recording the ledger: rules per kind, the chain, corrections and the monthly totals."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from tests.factories import make_facility, make_stream
from wasteex.enterprises.models import FacilityKind
from wasteex.errors import Conflict, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.ledger import chain_store
from wasteex.ledger.models import EntryKind, LedgerEntry
from wasteex.ledger.service import EntryInput, correct_entry, record_entry
from wasteex.ledger.stats import StatsFilter, closing_stock_kg, flow_totals

DAY = date(2025, 3, 15)


@pytest.fixture
def plant(world):
    make_facility(world.site_a, "ZC-01", FacilityKind.STORAGE)
    make_facility(world.site_a, "LY-01", FacilityKind.SELF_UTILISATION)
    make_facility(world.site_a, "CS-01", FacilityKind.GENERATION)
    world.stream = make_stream(world.a, world.site_a, "SW02")
    return world


def gen(w, tonnes="100", **kw):
    fields = dict(kind="generation", period_date=kw.pop("day", DAY), tonnes=tonnes, handler="张三",
                  stream_id=w.stream.id, facility_code="CS-01")
    return EntryInput(**{**fields, **kw})


def test_entries_chain_and_verify(plant):
    w = plant
    first = record_entry(w.alice, w.a.id, gen(w))
    second = record_entry(w.alice, w.a.id, gen(w, "2.5"))
    db.session.commit()
    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash
    assert first.quantity_kg == 100_000 and second.quantity_kg == 2_500
    report = chain_store.verify_enterprise(w.a.id)
    assert report.ok and report.count == 2 and report.head_hash == second.hash


@pytest.mark.parametrize("change, field", [
    ({"tonnes": "-1"}, "tonnes"), ({"tonnes": "0"}, "tonnes"), ({"tonnes": "1.2345"}, "tonnes"),
    ({"tonnes": "abc"}, "tonnes"), ({"tonnes": "99999999999"}, "tonnes"),
    ({"day": date.today() + timedelta(days=1)}, "period_date"),
    ({"facility_code": "ZC-01"}, "facility_code"),  # a storage facility for a generation entry
    ({"facility_code": "NOPE"}, "facility_code"),
    ({"handler": " "}, "handler"),
])
def test_bad_input_is_refused_with_the_field(plant, change, field):
    with pytest.raises(ValidationFailed) as refused:
        record_entry(plant.alice, plant.a.id, gen(plant, **change))
    assert field in refused.value.fields
    db.session.rollback()
    assert db.session.scalar(select(LedgerEntry.id)) is None


def test_route_must_fit_the_waste_and_kind(plant):
    w = plant
    wrong_waste = EntryInput(kind="self_utilisation", period_date=DAY, tonnes="5", handler="李四",
                             stream_id=w.stream.id, facility_code="LY-01", route_key="gypsum_board")
    with pytest.raises(ValidationFailed) as refused:
        record_entry(w.alice, w.a.id, wrong_waste)
    assert "route_key" in refused.value.fields
    landfill = EntryInput(kind="self_utilisation", period_date=DAY, tonnes="5", handler="李四",
                          stream_id=w.stream.id, facility_code="LY-01", route_key="landfill_class_ii")
    with pytest.raises(ValidationFailed):
        record_entry(w.alice, w.a.id, landfill)


def test_other_enterprise_stream_and_regulator_refused(plant):
    w = plant
    with pytest.raises(PermissionDenied):
        record_entry(w.bob, w.a.id, gen(w))
    with pytest.raises(PermissionDenied):
        record_entry(w.regulator, w.a.id, gen(w))
    other_stream = make_stream(w.b, w.site_b, "SW01")
    with pytest.raises(ValidationFailed) as refused:
        record_entry(w.alice, w.a.id, gen(w, stream_id=other_stream.id))
    assert "stream_id" in refused.value.fields


def test_entrusted_needs_the_manifest_fields(plant):
    w = plant
    base = dict(kind="entrusted_utilisation", period_date=DAY, tonnes="30", handler="王五", stream_id=w.stream.id,
                route_key="sintered_brick", counterparty_name=w.b.name, counterparty_credit_code=w.b.credit_code,
                carrier_name="通达物流", plate_number="蒙K12345", contract_number="HT-2025-001")
    entry = record_entry(w.alice, w.a.id, EntryInput(**base))
    assert entry.plate_number == "蒙K12345"
    for field, bad in (("plate_number", "ABC"), ("counterparty_credit_code", "91150622000000001X"),
                       ("contract_number", "")):
        with pytest.raises(ValidationFailed) as refused:
            record_entry(w.alice, w.a.id, EntryInput(**{**base, field: bad}))
        assert field in refused.value.fields


def test_correction_reverses_and_replaces(plant):
    w = plant
    original = record_entry(w.alice, w.a.id, gen(w, "100"))
    written = correct_entry(w.alice, original.id, "磅单录错", gen(w, "90"))
    db.session.commit()
    assert [e.quantity_kg for e in written] == [-100_000, 90_000]
    assert all(e.corrects_id == original.id for e in written)
    assert flow_totals(StatsFilter(year=2025)).generated == 90_000
    with pytest.raises(Conflict):
        correct_entry(w.alice, original.id, "again")
    assert chain_store.verify_enterprise(w.a.id).ok


def test_reference_is_unique_per_enterprise(plant):
    w = plant
    record_entry(w.alice, w.a.id, gen(w, reference="L-1"))
    with pytest.raises(Conflict):
        record_entry(w.alice, w.a.id, gen(w, reference="L-1"))


def test_flow_and_stock(plant):
    w = plant
    record_entry(w.alice, w.a.id, gen(w, "1000"))
    record_entry(w.alice, w.a.id, EntryInput(kind="storage_in", period_date=DAY, tonnes="400", handler="x",
                                             stream_id=w.stream.id, facility_code="ZC-01"))
    record_entry(w.alice, w.a.id, EntryInput(kind="self_utilisation", period_date=DAY, tonnes="700", handler="x",
                                             stream_id=w.stream.id, facility_code="LY-01",
                                             route_key="sintered_brick"))
    record_entry(w.alice, w.a.id, EntryInput(kind="self_utilisation", period_date=DAY, tonnes="100", handler="x",
                                             stream_id=w.stream.id, facility_code="LY-01",
                                             route_key="sintered_brick", from_prior_storage=True))
    db.session.commit()
    totals = flow_totals(StatsFilter(year=2025))
    assert totals.generated == 1_000_000 and totals.utilised == 800_000
    assert totals.utilised_from_prior_storage == 100_000
    # 800 / (1000 + 100)
    assert str(totals.utilisation_rate) == "0.727273"
    assert totals.balance_difference() == 1_000_000 - (700_000 + 400_000)
    assert closing_stock_kg(StatsFilter(year=2025)) == 400_000
    assert flow_totals(StatsFilter(year=2024)).generated == 0


def test_database_refuses_update_and_delete(plant):
    w = plant
    record_entry(w.alice, w.a.id, gen(w))
    db.session.commit()
    for statement in ("UPDATE ledger_entry SET quantity_kg = 1", "DELETE FROM ledger_entry"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(select(LedgerEntry.quantity_kg)) == 100_000
