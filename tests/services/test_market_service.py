"""Offers and demands: the rules of their terms, the status machine, who sees and changes what.

The fixtures here (``market`` and the builders) are shared with the page and API tests.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import add_member, make_enterprise, make_site, make_stream, make_user
from wasteex.accounts.models import MemberRole
from wasteex.audit.models import AuditEvent
from wasteex.catalog.models import QualityAttribute
from wasteex.enterprises.models import EnterpriseStatus
from wasteex.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.geo import base_of
from wasteex.market import service
from wasteex.market.models import Demand, ListingStatus, Offer, Supply
from wasteex.streams.models import QualityValue

Q_DAY = date(2025, 5, 1)


def add_quality(stream, key: str, value: str, measured_on: date = Q_DAY) -> None:
    attribute = db.session.scalar(select(QualityAttribute).where(QualityAttribute.key == key))
    db.session.add(QualityValue(stream=stream, attribute=attribute, value=Decimal(value), measured_on=measured_on))
    db.session.commit()


def place(site, lat: str, lon: str, division: str | None = None) -> None:
    site.latitude, site.longitude = Decimal(lat), Decimal(lon)
    if division:
        site.division_code, site.base = division, base_of(division)
    db.session.commit()


@pytest.fixture
def market(world):
    """A (producer, Jungar) with a fly-ash stream; B (utiliser, Otog, ~370 km away); C (utiliser, ~17 km from A)."""
    w = world
    place(w.site_a, "39.865", "111.216")  # Xuejiawan
    place(w.site_b, "39.35", "106.98")  # Qipanjing
    w.carol = make_user("carol@c.cn", name="Carol")
    w.c = make_enterprise(w.carol, name="丙水泥厂", utiliser=True, producer=False, division="150622")
    w.site_c = make_site(w.c, code="C01")
    place(w.site_c, "40.0", "111.3")  # Dalu industrial park
    w.stream = make_stream(w.a, w.site_a, "SW02", name="1号机组粉煤灰")
    add_quality(w.stream, "al2o3_pct", "45.2")
    add_quality(w.stream, "moisture_pct", "8")
    return w


def offer_data(w, **changes) -> dict:
    data = dict(stream_id=w.stream.id, title="粉煤灰 Ⅱ级", supply="one_off", tonnes="1200.5", price_per_t="-35",
                transport_by="utiliser", max_km=None)
    return data | changes


def demand_data(site, **changes) -> dict:
    data = dict(site_id=site.id, title="收购粉煤灰", accepts=["SW02"], accepts_class=["I", "II"],
                route_key="cement_admixture", limits={"al2o3_pct": {"min": "40", "max": None}}, supply="recurring",
                tonnes_per_month="500", window_start="2025-07", window_end="2025-12", max_km=300, price_per_t="20")
    return data | changes


def new_offer(w, actor=None, publish: bool = True, **changes) -> Offer:
    offer = service.create_offer(actor or w.alice, offer_data(w, **changes))
    if publish:
        service.change_status(actor or w.alice, offer, "publish")
    db.session.commit()
    return offer


def new_demand(actor, site, publish: bool = True, **changes) -> Demand:
    demand = service.create_demand(actor, demand_data(site, **changes))
    if publish:
        service.change_status(actor, demand, "publish")
    db.session.commit()
    return demand


def refused(call, *args) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        call(*args)
    db.session.rollback()
    return caught.value


# Offers ---------------------------------------------------------------------------

def test_offer_inherits_from_its_stream(market):
    w = market
    offer = new_offer(w, publish=False)
    assert (offer.enterprise_id, offer.site_id, offer.sw_code, offer.gb_class) == (w.a.id, w.site_a.id, "SW02", "I")
    assert offer.total_kg == offer.remaining_kg == 1_200_500 and offer.kg_per_month is None
    assert offer.status is ListingStatus.DRAFT and offer.published_at is None
    assert offer.price_per_t == Decimal("-35.00")
    quality = offer.quality_by_key()
    assert quality["al2o3_pct"].value == Decimal("45.2") and not quality["al2o3_pct"].declared
    assert quality["al2o3_pct"].measured_on == Q_DAY and set(quality) == {"al2o3_pct", "moisture_pct"}
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_id == offer.id,
                                                             AuditEvent.object_type == "offer")) == "offer.created"


def test_recurring_total_is_per_month_times_months(market):
    w = market
    offer = new_offer(w, publish=False, supply="recurring", tonnes="", tonnes_per_month="2000.125",
                      window_start="2025-07", window_end="2026-06")
    assert offer.supply is Supply.RECURRING and offer.months == 12
    assert (offer.window_start, offer.window_end) == (date(2025, 7, 1), date(2026, 6, 30))
    assert offer.kg_per_month == 2_000_125 and offer.total_kg == offer.remaining_kg == 12 * 2_000_125
    one_month = new_offer(w, publish=False, supply="recurring", tonnes_per_month="10", window_start="2025-02-14",
                          window_end=date(2025, 2, 3))
    assert one_month.months == 1 and one_month.window_end == date(2025, 2, 28) and one_month.total_kg == 10_000


@pytest.mark.parametrize("changes, field", [
    ({"tonnes": "0"}, "tonnes"),
    ({"tonnes": "-5"}, "tonnes"),
    ({"tonnes": "1.0005"}, "tonnes"),
    ({"tonnes": "1e3"}, "tonnes"),
    ({"tonnes": None}, "tonnes"),
    ({"supply": "weekly"}, "supply"),
    ({"supply": "recurring", "tonnes_per_month": "0", "window_start": "2025-01", "window_end": "2025-02"},
     "tonnes_per_month"),
    ({"supply": "recurring", "tonnes_per_month": "5", "window_start": "2025-06", "window_end": "2025-05"},
     "window_end"),
    ({"supply": "recurring", "tonnes_per_month": "5", "window_start": "2025-13", "window_end": "2026-05"},
     "window_start"),
    ({"supply": "recurring", "tonnes_per_month": "5", "window_start": "2025-01", "window_end": "2040-01"},
     "window_end"),
    ({"price_per_t": "12.345"}, "price_per_t"),
    ({"price_per_t": "NaN"}, "price_per_t"),
    ({"price_per_t": "1e9"}, "price_per_t"),
    ({"price_per_t": "free"}, "price_per_t"),
    ({"max_km": 0}, "max_km"),
    ({"max_km": 1001}, "max_km"),
    ({"max_km": "12.5"}, "max_km"),
    ({"title": " "}, "title"),
    ({"transport_by": "train"}, "transport_by"),
    ({"lab_report_id": 999999}, "lab_report_id"),
    ({"quality": {"al2o3_pct": {"value": "101", "measured_on": "2025-06-01"}}}, "quality.al2o3_pct.value"),
    ({"quality": {"al2o3_pct": {"value": "46", "measured_on": "2025-04-30"}}}, "quality.al2o3_pct.measured_on"),
    ({"quality": {"al2o3_pct": {"value": "46", "measured_on": "2999-01-01"}}}, "quality.al2o3_pct.measured_on"),
    ({"quality": {"gold_ppm": {"value": "1", "measured_on": "2025-06-01"}}}, "quality.gold_ppm"),
])
def test_offer_refusals_name_the_field(market, changes, field):
    w = market
    error = refused(service.create_offer, w.alice, offer_data(w, **changes))
    assert field in error.fields, error.fields
    assert db.session.scalar(select(func.count(Offer.id))) == 0


def test_a_newer_value_overrides_the_stream(market):
    w = market
    offer = new_offer(w, publish=False, quality={
        "al2o3_pct": {"value": "47.5", "measured_on": "2025-05-01"},  # same day as the stream's: allowed
        "loi_pct": {"value": "3.2", "measured_on": date(2025, 6, 2)}})
    quality = offer.quality_by_key()
    assert quality["al2o3_pct"].value == Decimal("47.5") and quality["al2o3_pct"].declared
    assert quality["loi_pct"].value == Decimal("3.2") and quality["moisture_pct"].value == Decimal("8")
    # A newer stream measurement wins over an older stated value at the next edit.
    add_quality(w.stream, "al2o3_pct", "44.0", date(2025, 7, 1))
    service.update_offer(w.alice, offer.id, {"price_per_t": "-30"})
    db.session.commit()
    db.session.expire_all()
    quality = db.session.get(Offer, offer.id).quality_by_key()
    assert quality["al2o3_pct"].value == Decimal("44") and not quality["al2o3_pct"].declared
    assert quality["loi_pct"].declared


def test_offer_needs_an_own_active_stream(market):
    w = market
    assert "stream_id" in refused(service.create_offer, w.bob, offer_data(w)).fields  # A's stream
    assert "stream_id" in refused(service.create_offer, w.alice, offer_data(w, stream_id=999999)).fields
    w.stream.active = False
    db.session.commit()
    assert "stream_id" in refused(service.create_offer, w.alice, offer_data(w)).fields
    with pytest.raises(PermissionDenied):
        service.create_offer(w.regulator, offer_data(w))
    reader = make_user("reader@a.cn")
    add_member(reader, w.a, MemberRole.READER)
    w.stream.active = True
    db.session.commit()
    with pytest.raises(PermissionDenied):
        service.create_offer(reader, offer_data(w))


def test_editing_moves_remaining_with_the_total(market):
    w = market
    offer = new_offer(w)
    offer.remaining_kg = 200_500  # as if 1000 t were already agreed
    db.session.commit()
    service.update_offer(w.alice, offer.id, {"tonnes": "1500"})
    db.session.commit()
    assert (offer.total_kg, offer.remaining_kg) == (1_500_000, 500_000)
    assert offer.title == "粉煤灰 Ⅱ级" and offer.price_per_t == Decimal("-35.00")  # untouched fields kept
    error = refused(service.update_offer, w.alice, offer.id, {"tonnes": "900"})
    assert "tonnes" in error.fields
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).total_kg == 1_500_000


# The status machine ---------------------------------------------------------------

def test_status_machine(market):
    w = market
    offer = new_offer(w, publish=False)
    with pytest.raises(InvalidTransition):
        service.offer_action(w.alice, offer.id, "pause")  # a draft is not open
    db.session.rollback()
    service.offer_action(w.alice, offer.id, "publish")
    first = offer.published_at
    assert offer.status is ListingStatus.OPEN and first is not None
    service.offer_action(w.alice, offer.id, "pause")
    service.offer_action(w.alice, offer.id, "publish")
    assert offer.status is ListingStatus.OPEN and offer.published_at == first
    service.offer_action(w.alice, offer.id, "close")
    db.session.commit()
    for action in ("publish", "pause", "close"):
        with pytest.raises(InvalidTransition):
            service.offer_action(w.alice, offer.id, action)
        db.session.rollback()
    with pytest.raises(InvalidTransition):
        service.update_offer(w.alice, offer.id, {"title": "改"})
    db.session.rollback()
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "offer")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["offer.created", "offer.publish", "offer.pause", "offer.publish", "offer.close"]


def test_unverified_enterprise_keeps_drafts(market):
    w = market
    w.a.status = EnterpriseStatus.PENDING
    db.session.commit()
    offer = new_offer(w, publish=False)  # a draft is fine while pending
    with pytest.raises(service.NotVerified) as caught:
        service.offer_action(w.alice, offer.id, "publish")
    assert caught.value.status == 403 and caught.value.code == "enterprise_not_verified" and caught.value.message
    db.session.rollback()
    assert db.session.get(Offer, offer.id).status is ListingStatus.DRAFT


# Who sees and changes what ---------------------------------------------------------

def test_permission_matrix(market):
    w = market
    draft, open_ = new_offer(w, publish=False), new_offer(w)
    paused = new_offer(w)
    service.offer_action(w.alice, paused.id, "pause")
    db.session.commit()
    reader = make_user("reader@a.cn")
    add_member(reader, w.a, MemberRole.READER)
    for offer in (draft, open_, paused):
        for who in (w.alice, reader, w.regulator, w.admin):
            assert service.get_offer(who, offer.id) is offer
    assert service.get_offer(w.bob, open_.id) is open_
    for hidden in (draft, paused):
        with pytest.raises(NotFound):
            service.get_offer(w.bob, hidden.id)  # a 404, not a 403: B does not learn it exists
    for who in (w.bob, reader, w.regulator, w.admin):
        with pytest.raises(PermissionDenied):
            service.update_offer(who, open_.id, {"title": "x"})
        db.session.rollback()
        with pytest.raises(PermissionDenied):
            service.offer_action(who, open_.id, "close")
        db.session.rollback()
    assert service.can_change(w.alice, open_) and not service.can_change(reader, open_)
    w.a.status = EnterpriseStatus.REJECTED  # a listing of an enterprise no longer verified disappears
    db.session.commit()
    with pytest.raises(NotFound):
        service.get_offer(w.bob, open_.id)


def test_listings_of_an_enterprise(market):
    w = market
    draft, open_ = new_offer(w, publish=False), new_offer(w)
    offers, demands = service.listings_of(w.alice, w.a.id)
    assert {o.id for o in offers} == {draft.id, open_.id} and demands == []
    assert len(service.listings_of(w.regulator, w.a.id)[0]) == 2
    with pytest.raises(PermissionDenied):
        service.listings_of(w.bob, w.a.id)


# Demands ---------------------------------------------------------------------------

def test_demand_created(market):
    w = market
    demand = new_demand(w.bob, w.site_b, publish=False,
                        accepts=["sw02", "SW03", "SW02"], limits={"al2o3_pct": {"min": "40", "max": "50"},
                                                                 "moisture_pct": {"min": None, "max": "12"},
                                                                 "loi_pct": {"min": "", "max": ""}})
    assert demand.enterprise_id == w.b.id and demand.accepts == ["SW02", "SW03"]
    assert demand.total_kg == demand.remaining_kg == 6 * 500_000 and demand.months == 6
    limits = demand.limit_by_key()
    assert set(limits) == {"al2o3_pct", "moisture_pct"}  # an empty pair is no limit
    assert (limits["al2o3_pct"].min_value, limits["moisture_pct"].min_value) == (Decimal("40"), None)
    assert demand.route.key == "cement_admixture" and demand.accepts_class == ["I", "II"]
    service.update_demand(w.bob, demand.id, {"accepts": ["SW06"], "route_key": "gypsum_board", "limits": {}})
    db.session.commit()
    db.session.expire_all()
    demand = db.session.get(Demand, demand.id)
    assert demand.accepts == ["SW06"] and demand.limits == [] and demand.title == "收购粉煤灰"


@pytest.mark.parametrize("changes, field", [
    ({"accepts": []}, "accepts"),
    ({"accepts": ["SW99"]}, "accepts"),
    ({"route_key": "landfill_class_ii"}, "route_key"),  # disposal is not utilisation
    ({"route_key": "gypsum_board"}, "route_key"),  # a gypsum route for fly ash
    ({"route_key": "nowhere"}, "route_key"),
    ({"accepts_class": []}, "accepts_class"),
    ({"accepts_class": ["III"]}, "accepts_class"),
    ({"limits": {"al2o3_pct": {"min": "50", "max": "40"}}}, "limits.al2o3_pct.max"),
    ({"limits": {"al2o3_pct": {"min": "-1", "max": None}}}, "limits.al2o3_pct.min"),
    ({"limits": {"moisture_pct": {"min": None, "max": "101"}}}, "limits.moisture_pct.max"),
    ({"limits": {"gold_ppm": {"min": "1"}}}, "limits.gold_ppm"),
    ({"max_km": 0}, "max_km"),
    ({"max_km": -10}, "max_km"),
    ({"max_km": None}, "max_km"),
    ({"max_km": 1001}, "max_km"),
    ({"supply": "one_off", "tonnes": "0"}, "tonnes"),
    ({"supply": "one_off", "tonnes": "3.1415"}, "tonnes"),
    ({"window_end": "2025-06"}, "window_end"),
    ({"site_id": None}, "site_id"),
])
def test_demand_refusals_name_the_field(market, changes, field):
    w = market
    error = refused(service.create_demand, w.bob, demand_data(w.site_b, **changes))
    assert field in error.fields, error.fields
    assert db.session.scalar(select(func.count(Demand.id))) == 0


def test_demand_needs_an_own_utiliser_site(market):
    w = market
    assert "site_id" in refused(service.create_demand, w.bob, demand_data(w.site_a)).fields  # A's site
    assert "site_id" in refused(service.create_demand, w.alice, demand_data(w.site_a)).fields  # A is no utiliser
    with pytest.raises(PermissionDenied):
        service.create_demand(w.regulator, demand_data(w.site_b))
    demand = new_demand(w.bob, w.site_b, publish=False)
    error = refused(service.update_demand, w.bob, demand.id, {"site_id": w.site_c.id})  # C's site
    assert "site_id" in error.fields
    with pytest.raises(NotFound):
        service.get_demand(w.carol, demand.id)
