"""以渣定产: sectors from industry keywords, the factor rule, thresholds with history, the pilot table."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import make_facility
from tests.services.planning_data import FACILITIES, TODAY, record_month, window_days
from tests.services.test_market_service import market  # noqa: F401 - fixture
from wasteex.audit.models import AuditEvent
from wasteex.errors import Conflict, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.regulator import quota
from wasteex.regulator.models import PilotSector, QuotaSectorKeyword

COAL, COKING, METALLURGY = PilotSector.COAL, PilotSector.COKING, PilotSector.METALLURGY


def test_the_longest_keyword_decides_the_sector():
    keywords = {"洗选": COAL, "炼焦": COKING, "炼焦煤洗选": COAL, "铁合金": METALLURGY}
    assert quota.sector_of("煤炭开采和洗选", keywords) is COAL
    assert quota.sector_of("炼焦", keywords) is COKING
    assert quota.sector_of("炼焦煤洗选业", keywords) is COAL
    assert quota.sector_of("火力发电", keywords) is None
    assert quota.sector_of("", keywords) is None


@pytest.mark.parametrize("share, factor", [
    ("0.75", "1.0000"), ("0.60", "1.0000"), ("0.45", "0.7500"), ("0.30", "0.7000"), ("0", "0.7000"),
])
def test_the_factor_is_one_at_the_threshold_and_scaled_down_to_the_floor(share, factor):
    assert quota.quota_factor(Decimal(share), Decimal("0.6"), Decimal("0.7")) == Decimal(factor)


def test_no_share_no_factor():
    assert quota.quota_factor(None, Decimal("0.6"), Decimal("0.7")) is None


@pytest.fixture
def keywords(app):
    """The keywords the migration loads (the PostgreSQL test harness empties tables between tests)."""
    present = set(db.session.scalars(select(QuotaSectorKeyword.keyword)))
    for keyword, sector in (("煤炭开采", COAL), ("洗选", COAL), ("铁合金", METALLURGY)):
        if keyword not in present:
            db.session.add(QuotaSectorKeyword(keyword=keyword, sector=sector))
    db.session.commit()


def threshold(actor, sector="coal", pct="60", floor="0.7", effective_from=None, note=""):
    row = quota.set_threshold(actor, {"sector": sector, "threshold_pct": pct, "floor_factor": floor,
                                      "effective_from": effective_from, "note": note}, TODAY)
    db.session.commit()
    return row


def test_thresholds_keep_their_history_and_the_one_in_force_wins(world, keywords):
    old = threshold(world.regulator, pct="50", effective_from="2024-01-01")
    new = threshold(world.regulator, pct="60", effective_from="2025-01-01", note="鄂府发〔2025〕1号")
    threshold(world.regulator, pct="70", effective_from="2026-01-01")
    assert quota.thresholds_on(date(2024, 6, 1))[COAL] == old
    assert quota.thresholds_on(TODAY)[COAL] == new and new.threshold == Decimal("0.6000")
    assert [t.threshold for t in quota.threshold_history(world.admin)] == [Decimal("0.7"), Decimal("0.6"),
                                                                         Decimal("0.5")]
    assert quota.thresholds_on(TODAY).get(METALLURGY) is None
    (event, *_rest) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "quota_threshold.set")).all()
    assert event.actor_id == world.regulator.id and event.data["threshold"] == "0.5000"


def test_only_regulators_set_thresholds_and_keywords(world, keywords):
    for refused in (world.admin, world.alice):
        with pytest.raises(PermissionDenied):
            threshold(refused)
        with pytest.raises(PermissionDenied):
            quota.add_keyword(refused, {"keyword": "焦化", "sector": "coking"})
    with pytest.raises(PermissionDenied):
        quota.threshold_history(world.alice)


@pytest.mark.parametrize("changes, field", [
    ({"sector": "power"}, "sector"), ({"threshold_pct": "0"}, "threshold_pct"), ({"threshold_pct": "101"}, "threshold_pct"),
    ({"threshold_pct": "60.123"}, "threshold_pct"), ({"floor_factor": "1.5"}, "floor_factor"),
    ({"floor_factor": "0.12345"}, "floor_factor"), ({"effective_from": "2025-13-01"}, "effective_from"),
])
def test_bad_thresholds_name_the_field(world, changes, field):
    data = {"sector": "coal", "threshold_pct": "60", "floor_factor": "0.7"} | changes
    with pytest.raises(ValidationFailed) as refused:
        quota.set_threshold(world.regulator, data, TODAY)
    assert field in refused.value.fields


def test_keywords_are_kept_by_regulators(world, keywords):
    row = quota.add_keyword(world.regulator, {"keyword": "焦化厂", "sector": "coking"})
    db.session.commit()
    with pytest.raises(Conflict):
        quota.add_keyword(world.regulator, {"keyword": "焦化厂", "sector": "coal"})
    db.session.rollback()
    quota.remove_keyword(world.regulator, row.id)
    db.session.commit()
    assert "焦化厂" not in {k.keyword for k in quota.keywords()}


def test_the_pilot_table_gives_each_enterprise_its_share_and_factor(market, keywords):
    w = market
    w.a.industry = "煤炭开采和洗选"
    db.session.commit()
    for code, kind in FACILITIES:
        make_facility(w.site_a, code, kind)
    for day in window_days():
        record_month(w.alice, w.a, w.stream, day, 1000, self_used_t=450, stored_t=100)
    _window, rows = quota.pilot(w.regulator, TODAY)
    (row,) = rows
    assert (row.enterprise, row.sector, row.share, row.factor) == (w.a, COAL, Decimal("0.45"), None)
    threshold(w.regulator, pct="60", floor="0.7", effective_from="2025-01-01")
    (row,) = quota.pilot(w.regulator, TODAY)[1]
    assert row.factor == Decimal("0.7500") and row.flows.generated == 12_000_000
