"""Planner runs and what-if scenarios on real ledger, market and capacity data; declared capacities."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import add_member, make_facility, make_user
from tests.services.planning_data import FACILITIES, TODAY, record_month, window_days
from tests.services.test_market_service import market, new_demand  # noqa: F401 - fixture
from wasteex.accounts.models import MemberRole
from wasteex.audit.models import AuditEvent
from wasteex.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.ledger.service import EntryInput, record_entry
from wasteex.matching.models import RunStatus
from wasteex.regulator import capacities, planning_inputs, scenarios
from wasteex.regulator.window import Window

NEAR_A = {"name": "准格尔新建粉煤灰综合利用厂", "lat": "39.90", "lon": "111.25", "sw_codes": ["SW02"],
          "tonnes_per_year": "10000", "max_km": 100}


@pytest.fixture
def city(market):
    """A generates 1000 t of fly ash a month (200 t used itself, 300 t stored); C declares 3000 t/yr nearby."""
    w = market
    for code, kind in FACILITIES:
        make_facility(w.site_a, code, kind)
    for day in window_days():
        record_month(w.alice, w.a, w.stream, day, 1000, self_used_t=200, stored_t=300)
    w.capacity = capacities.create_capacity(w.carol, w.c.id, {
        "site_id": w.site_c.id, "route_key": "cement_admixture", "sw_codes": ["SW02"], "tonnes_per_year": "3000",
        "max_km": 100})
    db.session.commit()
    return w


def run_now(actor, scenario_id=None):
    run = scenarios.start_run(actor, scenario_id)
    db.session.commit()
    return scenarios.execute(run.id, today=TODAY)


def test_the_baseline_places_new_generation_then_stock_into_declared_capacity(city):
    run = run_now(city.regulator)
    assert run.status is RunStatus.DONE and run.progress == 100, run.error
    plan = run.result["plan"]
    city_row = plan["city"]
    assert run.result["window"] == {"first": "2024-11", "last": "2025-10"}
    assert city_row["generated_kg"] == 12_000_000 and city_row["used_kg"] == 2_400_000
    assert city_row["rate_now"] == "0.200000"
    assert (city_row["matched_new_kg"], city_row["matched_stock_kg"]) == (3_000_000, 0)
    assert run.attainable_rate == Decimal("0.45") == run.baseline_rate
    assert city_row["needed_kg"] == 12_000_000 * 8 // 10 - 5_400_000
    (location,) = plan["locations"]
    assert location["sites"][0]["stream_id"] == city.stream.id
    assert plan["sinks"][0]["key"] == f"capacity:{city.capacity.id}"


def test_what_a_utiliser_already_receives_fills_its_declared_capacity(city):
    window = Window.before(TODAY)
    (sink,) = planning_inputs.sinks(window)
    assert sink.kg == 3_000_000  # nothing received yet
    record_entry(city.carol, city.c.id, EntryInput(
        "received", window_days()[0], "1000", "收料员", sw_code="SW02", counterparty_name=city.a.name,
        counterparty_credit_code=city.a.credit_code, carrier_name="通达物流", plate_number="蒙K12345",
        contract_number="HT-1"))
    db.session.commit()
    (sink,) = planning_inputs.sinks(window)
    assert sink.kg == 2_000_000


def test_open_demands_stand_in_for_utilisers_without_a_declaration(market):
    w = market
    demand = new_demand(w.bob, w.site_b)  # 500 t/month for 6 months, no capacity declared
    (sink,) = planning_inputs.sinks(Window.before(TODAY))
    assert sink.key == f"demand:{demand.id}" and sink.kg == 3_000_000  # what is left, under 12 × 500 t
    assert sink.limits["al2o3_pct"].min == 40


def test_a_hypothetical_utiliser_raises_the_attainable_rate_and_runs_compare(city):
    scenario = scenarios.create_scenario(city.regulator, {"name": "新建利用厂", "utilisers": [NEAR_A]})
    db.session.commit()
    run = run_now(city.admin, scenario.id)
    assert run.status is RunStatus.DONE, run.error
    assert run.baseline_rate == Decimal("0.45")
    plan = run.result["plan"]
    # 9600 t of new generation to place, then 3400 t of the 3600 t stock fill the 13,000 t of capacity
    assert plan["city"]["matched_new_kg"] == 9_600_000 and plan["city"]["matched_stock_kg"] == 3_400_000
    assert run.attainable_rate == Decimal("1")
    new = next(s for s in plan["sinks"] if s["hypothetical"])
    assert new["used_kg"] == 10_000_000
    assert run.result["scenario"]["utilisers"][0]["kg_per_year"] == 10_000_000
    assert scenarios.comparable(city.regulator, [scenario.id, 999]) == [scenario]


def test_removing_a_producer_takes_its_generation_out(city):
    scenario = scenarios.create_scenario(city.regulator, {"name": "甲厂关停", "removed_enterprise_ids": [city.a.id]})
    db.session.commit()
    run = run_now(city.regulator, scenario.id)
    assert run.result["plan"]["city"]["generated_kg"] == 0 and run.attainable_rate is None
    assert run.result["scenario"]["removed"] == [{"id": city.a.id, "name": city.a.name}]


def test_scenarios_are_refused_to_enterprise_users_and_audited(city):
    with pytest.raises(PermissionDenied):
        scenarios.create_scenario(city.alice, {"name": "x"})
    with pytest.raises(PermissionDenied):
        scenarios.start_run(city.alice, None)
    scenario = scenarios.create_scenario(city.regulator, {"name": "x"})
    db.session.commit()
    with pytest.raises(NotFound):
        scenarios.get_scenario(city.alice, scenario.id)
    scenarios.update_scenario(city.admin, scenario.id, {"description": "改"})
    scenarios.add_utiliser(city.regulator, scenario.id, NEAR_A)
    scenarios.remove_utiliser(city.regulator, scenario.id, 0)
    scenarios.delete_scenario(city.regulator, scenario.id)
    db.session.commit()
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "planning_scenario")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["planning_scenario.created", "planning_scenario.updated", "planning_scenario.updated",
                       "planning_scenario.updated", "planning_scenario.deleted"]


@pytest.mark.parametrize("changes, field", [
    ({"name": ""}, "name"),
    ({"utilisers": [dict(NEAR_A, lat="91")]}, "utilisers.0.lat"),
    ({"utilisers": [NEAR_A, dict(NEAR_A, sw_codes=["SW99"])]}, "utilisers.1.sw_codes"),
    ({"utilisers": [dict(NEAR_A, tonnes_per_year="0.0001")]}, "utilisers.0.tonnes_per_year"),
    ({"utilisers": [dict(NEAR_A, max_km=5000)]}, "utilisers.0.max_km"),
    ({"removed_enterprise_ids": [123456]}, "removed_enterprise_ids"),
    ({"removed_enterprise_ids": "1"}, "removed_enterprise_ids"),
])
def test_bad_scenarios_are_refused_naming_the_field(city, changes, field):
    with pytest.raises(ValidationFailed) as refused:
        scenarios.create_scenario(city.regulator, {"name": "x"} | changes)
    assert field in refused.value.fields


def test_one_run_at_a_time_per_plan(city):
    scenarios.start_run(city.regulator, None)
    db.session.commit()
    with pytest.raises(Conflict):
        scenarios.start_run(city.admin, None)


def test_a_failing_run_is_recorded_and_changes_nothing_else(city, monkeypatch):
    def broken(*_args):
        raise RuntimeError("boom")

    monkeypatch.setattr(planning_inputs, "read", broken)
    run = run_now(city.regulator)
    assert run.status is RunStatus.FAILED and "boom" in run.error and run.result is None


# Declared capacities -------------------------------------------------------------

def capacity_data(w, **changes):
    return {"site_id": w.site_c.id, "route_key": "cement_admixture", "sw_codes": ["SW02", "SW03"],
            "tonnes_per_year": "1500.5", "max_km": 80} | changes


def test_only_the_utilisers_own_admins_declare_capacity(city):
    w = city
    member = make_user("m@c.cn")
    add_member(member, w.c, MemberRole.MEMBER)
    for outsider in (w.regulator, w.admin, w.alice, member):
        with pytest.raises(PermissionDenied):
            capacities.create_capacity(outsider, w.c.id, capacity_data(w))
        with pytest.raises(PermissionDenied):
            capacities.update_capacity(outsider, w.capacity.id, capacity_data(w))
        with pytest.raises(PermissionDenied):
            capacities.delete_capacity(outsider, w.capacity.id)
    capacity = capacities.update_capacity(w.carol, w.capacity.id, capacity_data(w))
    db.session.commit()
    assert capacity.kg_per_year == 1_500_500 and capacity.sw_codes == ["SW02", "SW03"]
    assert capacities.capacity_input(capacity)["tonnes_per_year"] == "1500.5"
    capacities.delete_capacity(w.carol, capacity.id)
    db.session.commit()
    assert capacities.capacities_of(w.regulator, w.c.id) == []
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "utilisation_capacity")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["capacity.declared", "capacity.updated", "capacity.withdrawn"]


@pytest.mark.parametrize("changes, field", [
    ({"site_id": 999999}, "site_id"),
    ({"route_key": "landfill_class_ii"}, "route_key"),
    ({"sw_codes": []}, "sw_codes"),
    ({"sw_codes": ["SW16"]}, "sw_codes"),  # cement admixture does not take carbide slag
    ({"tonnes_per_year": "-1"}, "tonnes_per_year"),
    ({"max_km": ""}, "max_km"),
])
def test_bad_capacities_are_refused_naming_the_field(city, changes, field):
    with pytest.raises(ValidationFailed) as refused:
        capacities.create_capacity(city.carol, city.c.id, capacity_data(city, **changes))
    assert field in refused.value.fields


def test_a_site_of_another_enterprise_is_refused(city):
    with pytest.raises(ValidationFailed) as refused:
        capacities.create_capacity(city.carol, city.c.id, capacity_data(city, site_id=city.site_a.id))
    assert "site_id" in refused.value.fields
