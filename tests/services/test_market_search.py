"""Browsing (filters, sorts, distance from my site) and recommendations (compatible pairs only, nearest first)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from geopy.distance import geodesic

from tests.factories import make_enterprise, make_site, make_stream, make_user
from tests.services.test_market_service import add_quality, market, new_demand, new_offer, place  # noqa: F401
from wasteex.enterprises.models import EnterpriseStatus
from wasteex.errors import ValidationFailed
from wasteex.extensions import db
from wasteex.market import recommend, service
from wasteex.market.models import Demand
from wasteex.market.search import ListingFilter, bounding_box, search_demands, search_offers
from wasteex.matching import problem


def ids(page) -> list[int]:
    return [hit.id for hit in page.items]


def offers(actor, sort=None, page=1, per_page=20, **flt):
    return search_offers(actor, ListingFilter(**flt), sort, page, per_page)


def demands(actor, sort=None, **flt):
    return search_demands(actor, ListingFilter(**flt), sort, 1, 20)


@pytest.fixture
def listed(market):
    """A's fly ash at Xuejiawan (45.2 % Al₂O₃), B's own fly ash at Qipanjing (no lab values), C nearby."""
    w = market
    w.offer_a = new_offer(w, title="准格尔粉煤灰", tonnes="1200", price_per_t="-35")
    w.stream_b = make_stream(w.b, w.site_b, "SW02", name="乙厂粉煤灰")
    w.offer_b = service.create_offer(w.bob, dict(stream_id=w.stream_b.id, title="棋盘井粉煤灰", supply="one_off",
                                                 tonnes="300", price_per_t="10", transport_by="either"))
    service.change_status(w.bob, w.offer_b, "publish")
    w.draft_a = new_offer(w, publish=False, title="草稿 100%_x", tonnes="5000", price_per_t="0")
    db.session.commit()
    return w


def test_visibility_and_status(listed):
    w = listed
    assert set(ids(offers(w.carol))) == {w.offer_a.id, w.offer_b.id}
    assert set(ids(offers(w.alice, status="all"))) == {w.offer_a.id, w.offer_b.id, w.draft_a.id}
    assert ids(offers(w.bob, status="draft")) == [] and ids(offers(w.regulator, status="draft")) == [w.draft_a.id]
    assert ids(offers(w.alice, status="all", enterprise_id=w.a.id, sort="tonnes")) == [w.offer_a.id, w.draft_a.id]
    w.a.status = EnterpriseStatus.PENDING
    db.session.commit()
    assert ids(offers(w.carol)) == [w.offer_b.id]


def test_filters(listed):
    w = listed
    gypsum = make_stream(w.a, w.site_a, "SW06", name="脱硫石膏")
    offer_g = new_offer(w, stream_id=gypsum.id, title="石膏", tonnes="50")
    c = w.carol
    assert ids(offers(c, sw_code="sw06")) == [offer_g.id]
    assert set(ids(offers(c, base="otog"))) == {w.offer_b.id}
    assert set(ids(offers(c, division="150622"))) == {w.offer_a.id, offer_g.id}
    assert set(ids(offers(c, min_tonnes=Decimal("300")))) == {w.offer_a.id, w.offer_b.id}
    assert ids(offers(c, min_tonnes=Decimal("300.001"))) == [w.offer_a.id]
    assert ids(offers(w.alice, q="100%_", status="all")) == [w.draft_a.id]  # % and _ are literal
    assert ids(offers(c, quality={"al2o3_pct": (Decimal("40"), None)})) == [w.offer_a.id]  # B states nothing
    assert ids(offers(c, quality={"al2o3_pct": (None, Decimal("45.2"))})) == [w.offer_a.id]  # bounds included
    assert ids(offers(c, quality={"al2o3_pct": (Decimal("46"), None)})) == []
    with pytest.raises(ValidationFailed) as caught:
        offers(c, quality={"gold": (Decimal("1"), None)})
    assert "gold_min" in caught.value.fields


def test_sorts(listed):
    w = listed
    c = w.carol
    assert ids(offers(c, sort="price")) == [w.offer_a.id, w.offer_b.id]
    assert ids(offers(c, sort="-price")) == [w.offer_b.id, w.offer_a.id]
    assert ids(offers(c, sort="tonnes")) == [w.offer_b.id, w.offer_a.id]
    assert ids(offers(c, sort="-tonnes")) == [w.offer_a.id, w.offer_b.id]
    assert ids(offers(c, sort="newest")) == [w.offer_b.id, w.offer_a.id]
    page = offers(c, sort="distance; DROP TABLE offer")  # unknown keys fall back, never reach SQL
    assert page.sort == "newest" and page.total == 2
    assert offers(c, sort="distance").sort == "newest"  # distance needs a site


def test_distance_from_my_site(listed):
    w = listed
    page = offers(w.carol, near=w.site_c.id)
    assert page.sort == "distance" and ids(page) == [w.offer_a.id, w.offer_b.id]
    for hit, site in zip(page.items, (w.site_a, w.site_b)):
        expected = geodesic((w.site_c.latitude, w.site_c.longitude), (site.latitude, site.longitude)).km
        assert hit.km == pytest.approx(expected, abs=0.001)
    assert 10 < page.items[0].km < 25 and 300 < page.items[1].km < 450
    assert ids(offers(w.carol, near=w.site_c.id, within_km=100)) == [w.offer_a.id]
    assert ids(offers(w.carol, near=w.site_c.id, within_km=100, sort="-price")) == [w.offer_a.id]
    second = offers(w.carol, near=w.site_c.id, page=2, per_page=1)
    assert second.total == 2 and second.pages == 2 and ids(second) == [w.offer_b.id]
    assert ids(offers(w.carol, near=w.site_c.id, sort="-price")) == [w.offer_b.id, w.offer_a.id]
    assert ids(offers(w.carol, near=w.site_c.id, sort="newest", min_tonnes=Decimal("500"))) == [w.offer_a.id]
    with pytest.raises(ValidationFailed) as caught:
        offers(w.carol, near=w.site_a.id)  # somebody else's site
    assert "near" in caught.value.fields
    assert ids(offers(w.regulator, near=w.site_a.id, within_km=1)) == [w.offer_a.id]  # regulators: any site


@pytest.mark.parametrize("lat, lon", [(39.865, 111.216), (0.0, 0.0), (60.0, 179.9), (-45.0, -179.8), (80.0, 10.0)])
@pytest.mark.parametrize("km", [1, 150, 1000])
def test_bounding_box_holds_the_whole_circle(lat, lon, km):
    low, high, ranges = bounding_box(lat, lon, km)
    for bearing in range(0, 360, 3):
        point = geodesic(kilometers=km * 0.99999).destination((lat, lon), bearing)
        assert low <= point.latitude <= high, (bearing, point)
        if ranges is not None:
            assert any(west <= point.longitude <= east for west, east in ranges), (bearing, point, ranges)


def test_demand_filters(market):
    w = market
    d_limit = new_demand(w.bob, w.site_b, title="要铝40以上")
    d_free = new_demand(w.bob, w.site_b, title="不限", limits={})
    d_high = new_demand(w.carol, w.site_c, title="要铝50以上", limits={"al2o3_pct": {"min": "50"}})
    d_gypsum = new_demand(w.carol, w.site_c, title="石膏", accepts=["SW06"], route_key="gypsum_board", limits={})
    a = w.alice
    assert set(ids(demands(a, sw_code="SW02"))) == {d_limit.id, d_free.id, d_high.id}
    assert set(ids(demands(a, quality={"al2o3_pct": (Decimal("45"), None)}))) == {d_limit.id, d_free.id, d_gypsum.id}
    assert set(ids(demands(a, sw_code="SW02", quality={"al2o3_pct": (Decimal("38"), Decimal("45"))}))) == {d_free.id}
    assert ids(demands(a, near=w.site_a.id, sw_code="SW02"))[0] == d_high.id  # C is the nearest
    assert set(ids(demands(a, base="otog"))) == {d_limit.id, d_free.id}


# Recommendations -------------------------------------------------------------------

@pytest.fixture
def demanded(listed):
    """Demands around A's offer: two that fit, four near ones that do not, three the market hides."""
    w = listed
    w.fit_near = new_demand(w.carol, w.site_c, title="近处合适")
    w.fit_far = new_demand(w.bob, w.site_b, title="远处合适", max_km=500)
    w.too_far = new_demand(w.bob, w.site_b, title="超出距离", max_km=100)
    w.wrong_class = new_demand(w.carol, w.site_c, title="只收Ⅱ类", accepts_class=["II"])
    w.too_wet = new_demand(w.carol, w.site_c, title="含水率限5", limits={"moisture_pct": {"max": "5"}})
    w.needs_loi = new_demand(w.carol, w.site_c, title="要烧失量", limits={"loi_pct": {"max": "5"}})
    w.other_code = new_demand(w.carol, w.site_c, title="只收石膏", accepts=["SW06"], route_key="gypsum_board")
    w.draft = new_demand(w.carol, w.site_c, title="草稿", publish=False)
    w.a.is_utiliser = True
    db.session.commit()
    w.own = new_demand(w.alice, w.site_a, title="自己的")
    return w


def test_offer_recommendations(demanded):
    w = demanded
    recs = recommend.for_offer(w.bob, w.offer_a.id)  # anyone who may see the offer sees them
    assert [h.id for h in recs.compatible] == [w.fit_near.id, w.fit_far.id]
    assert recs.compatible[0].km < recs.compatible[1].km and recs.blocked is None
    reasons = {h.id: h.reason for h in recs.near}
    assert set(reasons) == {w.too_far.id, w.wrong_class.id, w.too_wet.id, w.needs_loi.id}
    assert "100" in reasons[w.too_far.id] and "18599" in reasons[w.wrong_class.id]
    assert "8 %" in reasons[w.too_wet.id] and "≤ 5" in reasons[w.too_wet.id]  # 8, not 8.0
    assert not any(r.startswith(("quality ", "class ", "code ")) for r in reasons.values())  # all in words
    kms = [h.km for h in recs.near]
    assert kms == sorted(kms)


def test_recommendations_agree_with_the_matcher_rules(demanded):
    """Brute force over every demand: the market rules plus problem.incompatibility at geopy's distance."""
    w = demanded
    offer = w.offer_a
    expected = set()
    for demand in db.session.query(Demand).all():
        if demand.status.value != "open" or not demand.enterprise.is_verified or demand.enterprise_id == offer.enterprise_id:
            continue
        metres = geodesic((offer.site.latitude, offer.site.longitude), (demand.site.latitude, demand.site.longitude)).m
        if problem.is_compatible(recommend.pure_offer(offer), recommend.pure_demand(demand), round(metres)):
            expected.add(demand.id)
    assert {h.id for h in recommend.for_offer(w.alice, offer.id).compatible} == expected
    limited = new_offer(w, title="限100公里", max_km=100)
    assert [h.id for h in recommend.for_offer(w.alice, limited.id).compatible] == [w.fit_near.id]


def test_demand_recommendations(demanded):
    w = demanded
    assert [h.id for h in recommend.for_demand(w.carol, w.fit_near.id).compatible] == [w.offer_a.id]
    recs = recommend.for_demand(w.bob, w.fit_far.id)  # B's own offer is never recommended to B
    assert [h.id for h in recs.compatible] == [w.offer_a.id] and recs.near == []
    own = make_stream(w.c, w.site_c, "SW02", name="丙厂粉煤灰")
    add_quality(own, "al2o3_pct", "50")
    service.change_status(w.carol, service.create_offer(w.carol, dict(
        stream_id=own.id, title="丙自产", supply="one_off", tonnes="5", price_per_t="0", transport_by="either")),
        "publish")
    dan = make_user("dan@d.cn")
    d = make_enterprise(dan, name="丁电厂")
    d_site = make_site(d, code="D1")
    place(d_site, "39.9", "111.25")  # nearer to C than A is
    d_stream = make_stream(d, d_site, "SW02")
    add_quality(d_stream, "al2o3_pct", "41", date(2025, 3, 1))
    d_offer = new_offer(w, actor=dan, stream_id=d_stream.id, title="丁粉煤灰")
    recs = recommend.for_demand(w.carol, w.fit_near.id)
    assert [h.id for h in recs.compatible] == [d_offer.id, w.offer_a.id]
    assert recs.compatible[0].km < recs.compatible[1].km
    wet = recommend.for_demand(w.carol, w.too_wet.id)  # D states no moisture, A's is 8 %: both near misses
    assert [h.id for h in wet.near] == [d_offer.id, w.offer_a.id] and wet.compatible == []
    assert "moisture" not in wet.near[0].reason and "8" in wet.near[1].reason


def test_blocked_recommendations(demanded):
    w = demanded
    service.offer_action(w.alice, w.offer_a.id, "close")
    db.session.commit()
    recs = recommend.for_offer(w.alice, w.offer_a.id)
    assert recs.blocked and recs.compatible == [] and recs.near == []
    w.b.status = EnterpriseStatus.PENDING
    db.session.commit()
    assert recommend.for_offer(w.bob, w.offer_b.id).blocked


@pytest.mark.parametrize("kind, offer_changes, demand_changes, metres", [
    ("code", {"sw_code": "SW09"}, {}, 0),
    ("class", {"waste_class": "II"}, {"accepts_class": frozenset({"I"})}, 0),
    ("class unknown", {"waste_class": None}, {"accepts_class": frozenset({"I"})}, 0),
    ("quality", {"quality": {"al2o3_pct": 30.0}}, {}, 0),
    ("quality unknown", {"quality": {}}, {}, 0),
    ("demand km", {}, {"max_km": 10}, 20_000),
    ("offer km", {"max_km": 10}, {}, 20_000),
])
def test_every_matcher_reason_is_put_in_words(market, kind, offer_changes, demand_changes, metres):
    w = market
    demand = new_demand(w.bob, w.site_b)
    pure_offer = problem.Offer(**({"id": "o", "sw_code": "SW02", "kg": 1, "lat": 0, "lon": 0, "waste_class": "I",
                                   "quality": {"al2o3_pct": 45.0}} | offer_changes))
    pure_demand = problem.Demand(**({"id": "d", "accepts": frozenset({"SW02"}), "kg": 1, "lat": 0, "lon": 0,
                                     "limits": {"al2o3_pct": problem.Limit(min=40)}} | demand_changes))
    reason = problem.incompatibility(pure_offer, pure_demand, metres)
    assert reason is not None
    words = recommend.explain(reason, demand)
    assert words != reason, f"{kind}: problem.py changed its wording; update recommend._PATTERNS"
