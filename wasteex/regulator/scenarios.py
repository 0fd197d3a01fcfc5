"""What-if scenarios and planner runs (the regulators' planning data).

A scenario adds hypothetical utilisers to the city and/or takes producers out
of it; a run computes the baseline plan and, for a scenario, the scenario's
plan on the same data, so the two compare exactly. The run stores the whole
result (and the scenario as it was run), so saved runs stay comparable side
by side after the scenario or the ledger changed.

Regulators and platform admins create, change and run scenarios; enterprise
users never see them. Every change is audited. Runs go to RQ when
``REDIS_URL`` is set — the same queue and worker as the matcher's runs — and
are executed inline otherwise; progress is committed on the run's row, which
the page polls (``static/js/run-progress.js``).
"""
from __future__ import annotations

import logging
import time
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wasteex.accounts.models import User
from wasteex.api.base import ID_MAX
from wasteex.audit.service import record
from wasteex.catalog.models import WasteCategory
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise
from wasteex.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.market import terms
from wasteex.matching import jobs
from wasteex.matching.models import RunStatus
from wasteex.matching.runs import is_stale
from wasteex.numbers import plain
from wasteex.regulator import planner, planning_inputs
from wasteex.regulator.models import PlanningRun, PlanningScenario
from wasteex.regulator.window import month_label

log = logging.getLogger(__name__)
MAX_UTILISERS = 50  # hypothetical utilisers per scenario
COORDINATE = Decimal("0.000001")


def require_planner(actor: User) -> None:
    if not actor.reads_everything:
        raise PermissionDenied(_("Only regulators and platform admins use the planner."))


# Scenarios ----------------------------------------------------------------------

def scenarios(actor: User) -> list[PlanningScenario]:
    require_planner(actor)
    return list(db.session.scalars(select(PlanningScenario).options(selectinload(PlanningScenario.runs))
                                   .order_by(PlanningScenario.id.desc())))


def get_scenario(actor: User, scenario_id: int) -> PlanningScenario:
    scenario = db.session.get(PlanningScenario, scenario_id)
    if scenario is None or not actor.reads_everything:
        raise NotFound(_("No such scenario."))
    return scenario


def _decimal(raw, field: str, low: int, high: int) -> Decimal:
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        terms.fail(field, _("Enter a number."))
    if isinstance(raw, (bool, float)) or not value.is_finite() or not low <= value <= high:
        terms.fail(field, _("Enter a number between %(lo)s and %(hi)s.", lo=low, hi=high))
    return value.quantize(COORDINATE)


def utiliser_values(data: dict, field: str = "") -> dict:
    """One hypothetical utiliser, validated; ``field`` prefixes error field names (``utilisers.2.``)."""
    def named(name):
        return f"{field}{name}"

    try:
        name = terms.text(data, "name", 120, required=True)
        lat, lon = _decimal(data.get("lat"), "lat", -90, 90), _decimal(data.get("lon"), "lon", -180, 180)
        codes = sorted({str(c).strip().upper() for c in (data.get("sw_codes") or []) if str(c).strip()})
        known = set(db.session.scalars(select(WasteCategory.sw_code).where(WasteCategory.active.is_(True))))
        if not codes or not set(codes) <= known:
            terms.fail("sw_codes", _("Choose at least one known waste code."))
        kg = terms.positive_kg(data.get("tonnes_per_year"), "tonnes_per_year")
        km = terms.max_km(data.get("max_km"), required=True)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, {named(k): v for k, v in error.fields.items()}) from None
    return {"name": name, "lat": str(lat), "lon": str(lon), "sw_codes": codes, "kg_per_year": kg, "max_km": km}


def _utilisers(raw) -> list[dict]:
    if not isinstance(raw, list):
        terms.fail("utilisers", _("Send a list of utilisers."))
    if len(raw) > MAX_UTILISERS:
        terms.fail("utilisers", _("At most %(n)s hypothetical utilisers.", n=MAX_UTILISERS))
    return [utiliser_values(item if isinstance(item, dict) else {}, f"utilisers.{n}.") for n, item in enumerate(raw)]


def _removed(raw) -> list[int]:
    raw = [] if raw is None else raw
    if not isinstance(raw, list) or not all(str(i).isdigit() and int(i) <= ID_MAX for i in raw):
        terms.fail("removed_enterprise_ids", _("Choose producers from the list."))
    ids = sorted({int(i) for i in raw})
    found = set(db.session.scalars(select(Enterprise.id).where(Enterprise.id.in_(ids or [-1]),
                                                               Enterprise.is_producer.is_(True))))
    if found != set(ids):
        terms.fail("removed_enterprise_ids", _("Choose producers from the list."))
    return ids


def _apply(scenario: PlanningScenario, data: dict) -> None:
    scenario.name = terms.text(data, "name", 120, required=True)
    scenario.description = terms.text(data, "description", 2000)
    scenario.utilisers = _utilisers(data.get("utilisers", []))
    scenario.removed_enterprise_ids = _removed(data.get("removed_enterprise_ids"))


def create_scenario(actor: User, data: dict) -> PlanningScenario:
    require_planner(actor)
    scenario = PlanningScenario(created_by_id=actor.id)
    _apply(scenario, data)
    db.session.add(scenario)
    db.session.flush()
    record(actor, "planning_scenario.created", scenario, name=scenario.name)
    return scenario


def update_scenario(actor: User, scenario_id: int, data: dict) -> PlanningScenario:
    """Replace the fields given; the others keep their value."""
    scenario = get_scenario(actor, scenario_id)
    _apply(scenario, {**scenario_input(scenario), **data})
    db.session.flush()
    record(actor, "planning_scenario.updated", scenario, name=scenario.name)
    return scenario


def scenario_input(scenario: PlanningScenario) -> dict:
    return {"name": scenario.name, "description": scenario.description,
            "utilisers": [{**u, "tonnes_per_year": plain(Decimal(u["kg_per_year"]) / 1000)}
                          for u in scenario.utilisers],
            "removed_enterprise_ids": list(scenario.removed_enterprise_ids)}


def add_utiliser(actor: User, scenario_id: int, data: dict) -> PlanningScenario:
    scenario = get_scenario(actor, scenario_id)
    if len(scenario.utilisers) >= MAX_UTILISERS:
        terms.fail("name", _("At most %(n)s hypothetical utilisers.", n=MAX_UTILISERS))
    values = utiliser_values(data)
    scenario.utilisers = [*scenario.utilisers, values]
    db.session.flush()
    record(actor, "planning_scenario.updated", scenario, name=scenario.name, added=values["name"])
    return scenario


def remove_utiliser(actor: User, scenario_id: int, index: int) -> PlanningScenario:
    scenario = get_scenario(actor, scenario_id)
    current = scenario_input(scenario)["utilisers"]
    if not 0 <= index < len(current):
        raise NotFound(_("No such hypothetical utiliser."))
    return update_scenario(actor, scenario_id, {"utilisers": current[:index] + current[index + 1:]})


def delete_scenario(actor: User, scenario_id: int) -> None:
    scenario = get_scenario(actor, scenario_id)
    if any(run.status.active and not is_stale(run) for run in scenario.runs):
        raise Conflict(_("The scenario is being run; delete it when the run has ended."))
    record(actor, "planning_scenario.deleted", scenario, name=scenario.name)
    db.session.delete(scenario)
    db.session.flush()


def hypothetical_sinks(scenario: PlanningScenario) -> list[planner.Sink]:
    return [planner.Sink(key=f"new:{n}", name=u["name"], accepts=frozenset(u["sw_codes"]), kg=u["kg_per_year"],
                         lat=float(u["lat"]), lon=float(u["lon"]), max_km=u["max_km"])
            for n, u in enumerate(scenario.utilisers)]


# Runs ----------------------------------------------------------------------------

def get_run(actor: User, run_id: int) -> PlanningRun:
    run = db.session.get(PlanningRun, run_id)
    if run is None or not actor.reads_everything:
        raise NotFound(_("No such planner run."))
    return run


def baseline_runs(actor: User, limit: int = 20) -> list[PlanningRun]:
    require_planner(actor)
    return list(db.session.scalars(select(PlanningRun).where(PlanningRun.scenario_id.is_(None))
                                   .order_by(PlanningRun.id.desc()).limit(limit)))


def latest_baseline(actor: User) -> PlanningRun | None:
    require_planner(actor)
    return db.session.scalar(select(PlanningRun).where(PlanningRun.scenario_id.is_(None),
                                                       PlanningRun.status == RunStatus.DONE)
                             .order_by(PlanningRun.id.desc()).limit(1))


def start_run(actor: User, scenario_id: int | None) -> PlanningRun:
    """Queue a run of the baseline (``scenario_id`` None) or of a scenario; one at a time for each."""
    require_planner(actor)
    scenario = get_scenario(actor, scenario_id) if scenario_id is not None else None
    active = db.session.scalars(select(PlanningRun).where(
        PlanningRun.scenario_id.is_(None) if scenario is None else PlanningRun.scenario_id == scenario.id,
        PlanningRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])))
    if any(not is_stale(run) for run in active):
        raise Conflict(_("This plan is already being computed."))
    run = PlanningRun(scenario=scenario, started_by_id=actor.id, status=RunStatus.QUEUED)
    db.session.add(run)
    db.session.flush()
    record(actor, "planning_run.started", run, scenario_id=scenario_id)
    return run


def dispatch(run: PlanningRun) -> None:
    """Hand a committed, queued run to RQ (the matcher's queue), or execute it now without Redis."""
    if not jobs.enqueue(run, perform, f"planning-run-{run.id}"):
        execute(run.id)


def perform(run_id: int) -> None:
    """The RQ entry point: a fresh app context in the worker process."""
    from wasteex import create_app

    with create_app().app_context():
        run = execute(run_id)
        if run.status is RunStatus.FAILED:
            raise RuntimeError(f"planner run {run_id} failed: {run.error}")


def execute(run_id: int, today: date | None = None) -> PlanningRun:
    """Compute a queued run, committing progress; a failure is recorded on the run, which is returned."""
    run = db.session.get(PlanningRun, run_id)
    if run is None or run.status is not RunStatus.QUEUED:
        raise Conflict(f"planner run {run_id} is not queued")
    started = time.perf_counter()
    try:
        _progress(run, 5, "reading", RunStatus.RUNNING)
        inputs = planning_inputs.read(today or date.today())
        _progress(run, 30, "baseline")
        baseline = planner.plan(inputs.sources, inputs.sinks)
        result = {"window": {"first": month_label(inputs.window.first), "last": month_label(inputs.window.last)},
                  "baseline": baseline, "plan": baseline, "scenario": None}
        if run.scenario is not None:
            _progress(run, 65, "scenario")
            scenario = run.scenario
            result["plan"] = planner.plan(planner.without(inputs.sources, scenario.removed_enterprise_ids),
                                          inputs.sinks + hypothetical_sinks(scenario))
            result["scenario"] = {"name": scenario.name, "utilisers": scenario.utilisers,
                                  "removed": _removed_names(scenario.removed_enterprise_ids)}
        _finish(run, result, time.perf_counter() - started)
    except Exception as exc:
        db.session.rollback()
        run = db.session.get(PlanningRun, run_id)
        run.status, run.error, run.finished_at = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000], utcnow()
        db.session.commit()
        log.exception("planner run %s failed", run_id)
    return run


def _removed_names(ids: list[int]) -> list[dict]:
    rows = db.session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids or [-1])))
    return [{"id": i, "name": name} for i, name in sorted(rows)]


def _progress(run: PlanningRun, percent: int, stage: str, status: RunStatus | None = None) -> None:
    run.progress, run.stage = percent, stage
    if status is not None:
        run.status, run.started_at = status, utcnow()
    db.session.commit()


def _rate(row: dict) -> Decimal | None:
    return None if row["rate_attainable"] is None else Decimal(row["rate_attainable"])


def _finish(run: PlanningRun, result: dict, seconds: float) -> None:
    run.result = result
    run.baseline_rate, run.attainable_rate = _rate(result["baseline"]["city"]), _rate(result["plan"]["city"])
    run.seconds = Decimal(f"{seconds:.3f}")
    run.status, run.progress, run.stage, run.finished_at = RunStatus.DONE, 100, "done", utcnow()
    db.session.commit()


def comparable(actor: User, scenario_ids: list[int]) -> list[PlanningScenario]:
    """The chosen scenarios that have a finished run, in the order asked (unknown ids are skipped)."""
    require_planner(actor)
    found = {s.id: s for s in db.session.scalars(select(PlanningScenario).where(
        PlanningScenario.id.in_(scenario_ids or [-1])).options(selectinload(PlanningScenario.runs)))}
    return [found[i] for i in dict.fromkeys(scenario_ids) if i in found and found[i].latest_done_run]
