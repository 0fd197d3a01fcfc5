"""Compatibility rules, one by one, and the vectorised filter agreeing with them."""
import numpy as np
import pytest
from geopy.distance import geodesic

from wasteex.matching.arrays import Arrays
from wasteex.matching.candidates import dense_pairs
from wasteex.matching.instance import problem_from_json
from wasteex.matching.problem import Demand, Limit, Offer, Problem, incompatibility, is_compatible


def offer(**kw):
    base = dict(id="o", sw_code="SW02", kg=1000, lat=39.6, lon=109.5, waste_class="I",
                quality={"al2o3_pct": 48.0, "moisture_pct": 8.0}, max_km=None)
    return Offer(**{**base, **kw})


def demand(**kw):
    base = dict(id="d", accepts=frozenset({"SW02"}), kg=1000, lat=39.6, lon=109.6,
                accepts_class=None, limits={}, max_km=None)
    return Demand(**{**base, **kw})


def test_code_must_be_accepted():
    assert is_compatible(offer(), demand(), 1000)
    assert "code" in incompatibility(offer(sw_code="SW09"), demand(), 1000)


def test_class_rules():
    restricted = demand(accepts_class=frozenset({"I", "II"}))
    assert is_compatible(offer(waste_class="II"), restricted, 0)
    assert "not accepted" in incompatibility(offer(waste_class="III"), restricted, 0)
    assert "unknown" in incompatibility(offer(waste_class=None), restricted, 0)  # class absent
    assert is_compatible(offer(waste_class=None), demand(), 0)  # no restriction, no class needed


def test_quality_limits_need_a_known_value_inside_the_bounds():
    limits = {"moisture_pct": Limit(max=12), "al2o3_pct": Limit(min=40)}
    assert is_compatible(offer(), demand(limits=limits), 0)
    assert is_compatible(offer(quality={"al2o3_pct": 40.0, "moisture_pct": 12.0}), demand(limits=limits), 0)
    assert not is_compatible(offer(quality={"al2o3_pct": 39.9, "moisture_pct": 8.0}), demand(limits=limits), 0)
    assert not is_compatible(offer(quality={"al2o3_pct": 48.0, "moisture_pct": 12.1}), demand(limits=limits), 0)
    reason = incompatibility(offer(quality={"al2o3_pct": 48.0}), demand(limits=limits), 0)
    assert reason == "quality moisture_pct unknown"  # missing value = not compatible
    assert is_compatible(offer(quality={}), demand(), 0)  # no limits, no values needed


def test_max_km_on_either_side():
    assert is_compatible(offer(), demand(max_km=150), 150_000)
    assert "demand's 150 km" in incompatibility(offer(), demand(max_km=150), 150_001)
    assert "offer's 80 km" in incompatibility(offer(max_km=80), demand(max_km=150), 100_000)
    assert is_compatible(offer(max_km=None), demand(max_km=None), 5_000_000)  # null = unlimited


def _scalar_pairs(problem):
    found = set()
    for i, o in enumerate(problem.offers):
        for j, d in enumerate(problem.demands):
            metres = geodesic((o.lat, o.lon), (d.lat, d.lon)).m
            bounds = [b * 1000 for b in (o.max_km, d.max_km) if b is not None]
            if any(abs(metres - b) < 1 for b in bounds):
                continue  # a hair from a bound: Vincenty vs Karney may legitimately differ
            if is_compatible(o, d, metres):
                found.add((i, j, round(metres)))
    return found


@pytest.mark.parametrize("seed", range(4))
def test_vectorised_filter_agrees_with_the_scalar_rules(make_instance, seed):
    problem = problem_from_json(make_instance(seed, 30, 30, spread_deg=3.0))
    pairs = dense_pairs(Arrays(problem))
    vector = set(zip(pairs.offer.tolist(), pairs.demand.tolist(), pairs.cost.tolist()))
    scalar = _scalar_pairs(problem)
    assert scalar <= vector
    assert len(vector - scalar) <= 1  # only a pair within a metre of a range bound may differ
    assert len(scalar) > 50


def test_class_and_quality_columns_handle_absent_data():
    problem = Problem.of(
        [offer(id="a", waste_class=None, quality={}), offer(id="b")],
        [demand(id="x", accepts_class=frozenset({"I"})), demand(id="y", limits={"cao": Limit(min=1)})],
    )
    arrays = Arrays(problem)
    i, j = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    assert arrays.attributes_ok(i, j).tolist() == [False, False, True, False]


def test_an_enterprise_does_not_trade_with_itself():
    assert incompatibility(offer(owner="7"), demand(owner="7"), 1000) == "same enterprise 7"
    assert incompatibility(offer(owner="7"), demand(owner="8"), 1000) is None
    assert incompatibility(offer(), demand(), 1000) is None  # no owner: no constraint
