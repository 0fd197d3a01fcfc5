"""The "why" helper: allocations, nearer offers that went elsewhere, and their reduced costs."""
from wasteex.matching import explain, solver
from wasteex.matching.instance import problem_from_json


def market():
    # x sits next to a; but a is the only supply y can use, so a serves y and x takes b
    return problem_from_json({
        "offers": [
            {"id": "a", "sw_code": "S", "tonnes": 10, "lat": 39.0, "lon": 109.00},
            {"id": "b", "sw_code": "S", "tonnes": 10, "lat": 39.0, "lon": 109.30},
            {"id": "c", "sw_code": "Z", "tonnes": 10, "lat": 39.0, "lon": 109.01},
        ],
        "demands": [
            {"id": "x", "accepts": ["S"], "tonnes": 10, "lat": 39.0, "lon": 109.02},
            {"id": "y", "accepts": ["S"], "tonnes": 10, "lat": 39.0, "lon": 108.95, "max_km": 10},
        ],
    })


def test_explains_why_the_nearest_offer_went_elsewhere():
    problem = market()
    for strategy in ("dense", "sparse"):
        result = solver.solve(problem, strategy=strategy)
        views = {v.offer_id: v for v in explain.explain(problem, result, "x")}
        assert views["b"].allocated_tonnes == 10 and views["b"].reason == "allocated here"
        a = views["a"]
        assert a.allocated_tonnes == 0 and a.elsewhere[0][:2] == ("y", 10.0)
        # taking a for x would leave y empty: tonnes come first
        assert "lose matched tonnes" in a.reason
        assert views["c"].reason.startswith("not compatible: code Z")
        assert views["c"].extra_tonne_km_per_tonne is None


def test_reduced_costs_are_never_negative():
    problem = market()
    result = solver.solve(problem)
    for demand in ("x", "y"):
        for view in explain.explain(problem, result, demand):
            assert view.extra_tonne_km_per_tonne is None or view.extra_tonne_km_per_tonne >= 0
