"""The capacity-gap planner's arithmetic and matching, without a database."""
from decimal import Decimal

import pytest

from wasteex.regulator.planner import Figures, Sink, Source, capacity_needed, locations, plan, side_by_side, without


def source(stream_id, generated_t, *, used_t=0, prior_t=0, stock_t=0, code="SW02", base="jungar",
           division="150622", lat=39.90, lon=111.20, enterprise_id=None):
    return Source(stream_id=stream_id, enterprise_id=enterprise_id or stream_id, enterprise=f"E{stream_id}",
                  site="S01", sw_code=code, base=base, division_code=division, lat=lat, lon=lon,
                  generated_kg=generated_t * 1000, used_kg=used_t * 1000, prior_used_kg=prior_t * 1000,
                  stock_kg=stock_t * 1000)


def sink(key, tonnes, *, codes=("SW02",), lat=39.90, lon=111.25, max_km=100, enterprise_id=99):
    return Sink(key=key, name=key, accepts=frozenset(codes), kg=tonnes * 1000, lat=lat, lon=lon, max_km=max_km,
                enterprise_id=enterprise_id)


def test_capacity_needed_takes_new_generation_first_then_stock():
    # 1000 t generated, 500 t used: 80 % needs 300 t more of new generation
    assert capacity_needed(Figures(generated=1_000, used=500, new_left=500)) == (300, True)
    # 200 t short, only 100 t of new generation left: the other 100 t need 100 / 0.2 = 500 t of stock
    assert capacity_needed(Figures(generated=1_000, used=600, new_left=100, stock_left=2_000)) == (600, True)
    assert capacity_needed(Figures(generated=1_000, used=600, new_left=100, stock_left=300)) == (400, False)
    assert capacity_needed(Figures(generated=1_000, used=800)) == (0, True)
    with pytest.raises(ValueError):
        capacity_needed(Figures(generated=1), Decimal(1))


def test_the_attainable_rate_adds_what_the_matcher_places():
    result = plan([source(1, 1_000, used_t=400)], [sink("cap:1", 300)])
    city = result["city"]
    assert city["rate_now"] == "0.400000"
    assert city["matched_new_kg"] == 300_000 and city["rate_attainable"] == "0.700000"
    assert city["needed_kg"] == 100_000 and city["reachable"]
    assert result["sinks"][0]["used_kg"] == 300_000
    assert result["matcher"]["optimal"]


def test_new_generation_is_placed_before_stock_and_stock_enters_the_denominator():
    result = plan([source(1, 1_000, used_t=500, stock_t=400)], [sink("cap:1", 700)])
    city = result["city"]
    assert (city["matched_new_kg"], city["matched_stock_kg"]) == (500_000, 200_000)
    assert city["denominator_kg"] == 1_200_000 and city["attainable_kg"] == 1_200_000
    assert city["rate_attainable"] == "1.000000"


def test_the_matchers_rules_apply_distance_code_and_own_enterprise():
    far = sink("far", 1_000, lat=41.5, lon=111.2, max_km=50)  # ~180 km away
    other_code = sink("gypsum", 1_000, codes=("SW06",))
    own = sink("own", 1_000, enterprise_id=1)
    result = plan([source(1, 1_000)], [far, other_code, own])
    assert result["city"]["matched_new_kg"] == 0
    assert result["city"]["needed_kg"] == 800_000


def test_figures_are_grouped_by_base_and_code_and_group_rows_bring_the_group_as_a_whole():
    sources = [source(1, 1_000, used_t=1_000), source(2, 1_000, code="SW04", base="uxin", division="150626")]
    result = plan(sources, [])
    cells = {(c["base"], c["sw_code"]): c for c in result["cells"]}
    assert cells[("jungar", "SW02")]["needed_kg"] == 0 and cells[("uxin", "SW04")]["needed_kg"] == 800_000
    assert result["city"]["needed_kg"] == 600_000  # 2000 t at 80 % = 1600 t, 1000 t used
    assert [b["base"] for b in result["bases"]] == ["jungar", "uxin"]


def test_locations_name_the_largest_holders_at_the_tonnage_weighted_centre():
    sources = [source(1, 3_000, lat=39.0, lon=111.0), source(2, 1_000, lat=40.0, lon=112.0),
               source(3, 500, division="150627", lat=39.5, lon=110.0)]
    result = plan(sources, [])
    jungar = [loc for loc in result["locations"] if loc["division_code"] == "150622"]
    (loc,) = jungar
    assert loc["unplaced_kg"] == 4_000_000
    assert (loc["lat"], loc["lon"]) == (39.25, 111.25)
    assert [s["stream_id"] for s in loc["sites"]] == [1, 2]
    assert result["locations"][0]["unplaced_kg"] >= result["locations"][-1]["unplaced_kg"] or \
        result["locations"][0]["division_code"] != result["locations"][-1]["division_code"]


def test_no_location_where_nothing_is_missing():
    assert locations([], {}) == []
    assert plan([source(1, 1_000, used_t=900)], [])["locations"] == []


def test_a_scenario_without_a_producer_drops_its_figures_and_side_by_side_lines_them_up():
    sources = [source(1, 1_000), source(2, 1_000, used_t=1_000, code="SW04")]
    baseline = plan(sources, [])
    scenario = plan(without(sources, [1]), [])
    rows = side_by_side(baseline, [scenario])
    assert [(r["group"], r["key"]) for r in rows] == [("city", ""), ("base", "jungar"), ("sw_code", "SW02"),
                                                     ("sw_code", "SW04")]
    code_row = rows[2]
    assert code_row["baseline"]["generated_kg"] == 1_000_000 and code_row["plans"] == [None]
    assert rows[0]["plans"][0]["rate_attainable"] == "1.000000"
