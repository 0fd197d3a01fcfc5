"""The market's spatial index against the reference: ``problem.incompatibility`` and a brute-force ranking."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
from geopy.distance import geodesic

from wasteex.market import spatial
from wasteex.market.spatial import MarketIndex
from wasteex.matching import geodesy, problem

CODES = ("SW01", "SW02", "SW03", "SW04")
ATTRIBUTES = ("al2o3_pct", "moisture_pct", "loi_pct")


def random_market(seed: int, n_offers: int, n_demands: int, enterprises: int = 12, spread_deg: float = 1.5):
    """Offers and demands with every kind of rule, clustered so that ties in reach are common."""
    rnd = random.Random(seed)
    parks = [(39.6 + rnd.uniform(-spread_deg, spread_deg) / 2, 109.5 + rnd.uniform(-spread_deg, spread_deg))
             for _ in range(6)]

    def site():
        lat, lon = rnd.choice(parks)
        return round(lat + rnd.gauss(0, 0.1), 6), round(lon + rnd.gauss(0, 0.12), 6)

    offers, demands = [], []
    for n in range(n_offers):
        lat, lon = site()
        quality = {a: round(rnd.uniform(0, 50), rnd.choice([0, 1, 4])) for a in ATTRIBUTES if rnd.random() < 0.7}
        offers.append(problem.Offer(
            id=str(1000 + n), sw_code=rnd.choice(CODES), kg=rnd.randint(1, 9000), lat=lat, lon=lon,
            waste_class=rnd.choice(["I", "II", None]), quality=quality,
            max_km=rnd.choice([None, None, rnd.randint(10, 250)])))
    for n in range(n_demands):
        lat, lon = site()
        limits = {}
        for name in rnd.sample(ATTRIBUTES, rnd.choice([0, 0, 1, 2])):
            limits[name] = rnd.choice([problem.Limit(max=40.0), problem.Limit(min=10.0),
                                       problem.Limit(min=5.0, max=45.0), problem.Limit(min=25.0, max=25.0)])
        demands.append(problem.Demand(
            id=str(5000 + n), accepts=frozenset(rnd.sample(CODES, rnd.randint(1, 3))), kg=rnd.randint(1, 9000),
            lat=lat, lon=lon, accepts_class=rnd.choice([None, frozenset({"I"}), frozenset({"I", "II"})]),
            limits=limits, max_km=rnd.choice([None, rnd.randint(5, 200)])))
    return offers, [rnd.randint(1, enterprises) for _ in offers], demands, [rnd.randint(1, enterprises) for _ in demands]


def metres_between(a, b) -> np.ndarray:
    return geodesy.geodesic_m(np.array([a.lat]), np.array([a.lon]), np.array([x.lat for x in b]),
                              np.array([x.lon for x in b]))


def reference(subject, partners, partner_enterprises, enterprise_id, reach_m, limit, near_limit, subject_is_offer):
    """Brute force: every partner of another enterprise with the code, within reach, judged by the scalar rule."""
    metres = metres_between(subject, partners)
    judged = []
    for p, (partner, m) in enumerate(zip(partners, metres.tolist())):
        offer, demand = (subject, partner) if subject_is_offer else (partner, subject)
        if partner_enterprises[p] == enterprise_id or round(m) > reach_m or offer.sw_code not in demand.accepts:
            continue
        judged.append((m, int(partner.id), p, problem.incompatibility(offer, demand, round(m)) is None))
    judged.sort()
    return ([(p, m) for m, _i, p, ok in judged if ok][:limit],
            [(p, m) for m, _i, p, ok in judged if not ok][:near_limit])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_column_rules_agree_with_the_scalar_rule_pair_by_pair(seed):
    offers, oe, demands, de = random_market(seed, 150, 150)
    # a few exact boundaries: a demand's reach equal to a real distance, a limit equal to a real value
    rnd = random.Random(seed)
    for _ in range(20):
        o, j = rnd.choice(offers), rnd.randrange(len(demands))
        d = demands[j]
        m = float(metres_between(o, [d])[0])
        name = rnd.choice(ATTRIBUTES)
        limits = {name: problem.Limit(max=o.quality[name])} if name in o.quality else d.limits
        demands[j] = problem.Demand(id=d.id, accepts=d.accepts | {o.sw_code}, kg=d.kg, lat=d.lat, lon=d.lon,
                                    accepts_class=d.accepts_class, limits=limits, max_km=round(m) / 1000)
    index = MarketIndex.of(offers, oe, demands, de)
    every_demand, every_offer = np.arange(len(demands)), np.arange(len(offers))
    agree = disagree = 0
    for offer in offers:
        metres = metres_between(offer, demands)
        got = index.verdicts_for_offer(offer, every_demand, metres)
        want = [problem.incompatibility(offer, d, round(m)) is None for d, m in zip(demands, metres.tolist())]
        assert got.tolist() == want
        agree += sum(want)
    for demand in demands:
        metres = metres_between(demand, offers)
        got = index.verdicts_for_demand(demand, every_offer, metres)
        want = [problem.incompatibility(o, demand, round(m)) is None for o, m in zip(offers, metres.tolist())]
        assert got.tolist() == want
        disagree += len(want) - sum(want)
    assert agree > 100 and disagree > 100  # both verdicts well represented


def test_listings_from_outside_the_index_are_judged_too():
    """The caller judges the live listing, which may carry a class or attribute the index has never seen."""
    offers, oe, demands, de = random_market(7, 60, 60)
    index = MarketIndex.of(offers, oe, demands, de)
    strange_offer = problem.Offer(id="1", sw_code="SW09", kg=1, lat=39.6, lon=109.5, waste_class="III",
                                  quality={"cao_pct": 3.0})
    strange_demand = problem.Demand(id="2", accepts=frozenset({"SW01", "SW77"}), kg=1, lat=39.6, lon=109.5,
                                    accepts_class=frozenset({"III", "I"}), limits={"cao_pct": problem.Limit(max=9.0)})
    plain_demand = problem.Demand(id="3", accepts=frozenset({"SW01", "SW02"}), kg=1, lat=39.6, lon=109.5,
                                  accepts_class=frozenset({"III", "I"}))
    for offer in (strange_offer, offers[0]):
        metres = metres_between(offer, demands)
        want = [problem.incompatibility(offer, d, round(m)) is None for d, m in zip(demands, metres.tolist())]
        assert index.verdicts_for_offer(offer, np.arange(len(demands)), metres).tolist() == want
    for demand in (strange_demand, plain_demand):
        metres = metres_between(demand, offers)
        want = [problem.incompatibility(o, demand, round(m)) is None for o, m in zip(offers, metres.tolist())]
        assert index.verdicts_for_demand(demand, np.arange(len(offers)), metres).tolist() == want
    assert any(want)


@pytest.mark.parametrize("seed, first_depth", [(11, 1), (12, 3), (13, spatial.FIRST_DEPTH)])
def test_walk_returns_exactly_the_brute_force_ranking(monkeypatch, seed, first_depth):
    """Nearest compatible and nearest near misses, by (geodesic, id), for every listing as the subject."""
    monkeypatch.setattr(spatial, "FIRST_DEPTH", first_depth)  # small depths force widening
    offers, oe, demands, de = random_market(seed, 200, 200, enterprises=6)
    index = MarketIndex.of(offers, oe, demands, de)
    limit, near_limit = 7, 4
    for offer, enterprise in zip(offers, oe):
        reach = (offer.max_km or 120) * 1000
        found = index.demands_for(offer, enterprise, reach, limit, near_limit)
        want = reference(offer, demands, de, enterprise, reach, limit, near_limit, subject_is_offer=True)
        assert (found.compatible, found.near) == want
    for demand, enterprise in zip(demands, de):
        reach = (demand.max_km or 120) * 1000
        found = index.offers_for(demand, enterprise, reach, limit, near_limit)
        want = reference(demand, offers, oe, enterprise, reach, limit, near_limit, subject_is_offer=False)
        assert (found.compatible, found.near) == want


def test_distances_shown_agree_with_geopy_within_10_m():
    offers, oe, demands, de = random_market(21, 80, 80, spread_deg=6)
    index = MarketIndex.of(offers, oe, demands, de)
    checked = 0
    for offer, enterprise in zip(offers[:20], oe):
        found = index.demands_for(offer, enterprise, 1_000_000, 20, 10)
        for p, metres in found.compatible + found.near:
            d = demands[p]
            assert abs(geodesic((offer.lat, offer.lon), (d.lat, d.lon)).m - metres) < 10
            checked += 1
    assert checked > 100


def test_an_empty_market_and_unknown_codes():
    index = MarketIndex.of([], [], [], [])
    offer = problem.Offer(id="1", sw_code="SW01", kg=1, lat=39.6, lon=109.5)
    demand = problem.Demand(id="2", accepts=frozenset({"SW01"}), kg=1, lat=39.6, lon=109.5, max_km=50)
    assert index.demands_for(offer, 1, 1e6, 20, 10).compatible == []
    assert index.offers_for(demand, 1, 5e4, 20, 10).near == []
    index = MarketIndex.of([offer], [1], [demand], [2])
    assert index.demands_for(offer, 1, 1e6, 20, 10).compatible == [(0, 0.0)]
    assert index.demands_for(offer, 2, 1e6, 20, 10).compatible == []  # the same enterprise is never shown
    lonely = problem.Demand(id="3", accepts=frozenset({"SW05"}), kg=1, lat=0, lon=0, max_km=math.inf)
    assert index.offers_for(lonely, None, 1e6, 20, 10).compatible == []
