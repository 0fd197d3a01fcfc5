"""City-wide matcher runs on the platform: snapshot the open market, solve, store proposals.

A platform admin or regulator starts a run (or a scheduler calls ``flask
match-run``); with ``REDIS_URL`` set it runs as an RQ job (:mod:`jobs`),
otherwise inline. Progress is committed phase by phase so that a page can
show it, but the proposals and the totals are written in one final
transaction: a run that fails is marked failed and a killed one is left
without any proposal — never half of them. A run whose worker died shows as
stale after ``MATCH_RUN_STALE_SECONDS`` and no longer blocks a new one.

The market is every open offer and demand of a verified enterprise with
tonnes left, translated to the matcher's plain data by the same functions
the recommendations use, each marked with its enterprise (no enterprise
trades with itself); the snapshot is that input in ``match-file`` form
(ids are database ids), so a planner can replay a run offline.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wasteex.accounts.models import User
from wasteex.agreements import explanation
from wasteex.agreements.models import Decision, Proposal, ProposalStatus
from wasteex.agreements.service import default_period
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise, EnterpriseStatus
from wasteex.errors import Conflict, NotFound, PermissionDenied
from wasteex.extensions import db
from wasteex.market.models import Demand, ListingStatus, Offer
from wasteex.market.recommend import pure_demand, pure_offer
from wasteex.matching import explain
from wasteex.matching.models import MatchRun, RunStatus
from wasteex.matching.problem import Problem, Result
from wasteex.matching.solver import solve
from wasteex.notifications.proposals import announce_run

log = logging.getLogger(__name__)
ALTERNATIVES = 3  # other offers explained per demand


def require_run_starter(actor: User) -> None:
    if not actor.reads_everything:
        raise PermissionDenied(_("Only platform admins and regulators start matcher runs."))


def transport_rate() -> Decimal:
    return Decimal(str(current_app.config["TRANSPORT_YUAN_PER_TKM"]))


def is_stale(run: MatchRun) -> bool:
    limit = timedelta(seconds=current_app.config["MATCH_RUN_STALE_SECONDS"])
    return run.status.active and utcnow() - (run.started_at or run.created_at) > limit


def active_run() -> MatchRun | None:
    runs = db.session.scalars(select(MatchRun).where(MatchRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])))
    return next((run for run in runs if not is_stale(run)), None)


def start(actor: User | None) -> MatchRun:
    """Queue a run; refused while another one is queued or running. ``actor`` None: the scheduler."""
    if actor is not None:
        require_run_starter(actor)
    if active_run() is not None:
        raise Conflict(_("A matcher run is already in progress."))
    run = MatchRun(started_by_id=actor.id if actor else None, yuan_per_tkm=transport_rate(), status=RunStatus.QUEUED)
    db.session.add(run)
    db.session.flush()
    record(actor, "match_run.started", run)
    return run


def get_run(actor: User, run_id: int) -> MatchRun:
    run = db.session.get(MatchRun, run_id)
    if run is None or not actor.reads_everything:
        raise NotFound(_("No such matcher run."))
    return run


def runs_for(actor: User) -> list[MatchRun]:
    require_run_starter(actor)
    return list(db.session.scalars(select(MatchRun).order_by(MatchRun.id.desc()).limit(50)))


# Executing ---------------------------------------------------------------------

def execute(run_id: int) -> MatchRun:
    """Run a queued run to its end, committing progress; a failure is recorded on the run, which is returned."""
    run = db.session.get(MatchRun, run_id)
    if run is None or run.status is not RunStatus.QUEUED:
        raise Conflict(f"run {run_id} is not queued")
    started = time.perf_counter()
    try:
        _progress(run, 5, "snapshot", status=RunStatus.RUNNING)
        offers, demands = market()
        problem = Problem.of([replace(pure_offer(o), owner=str(o.enterprise_id)) for o in offers],
                             [replace(pure_demand(d), owner=str(d.enterprise_id)) for d in demands])
        run.snapshot, run.offers, run.demands = snapshot(problem), len(offers), len(demands)
        _progress(run, 25, "solving")
        result = solve(problem)
        _progress(run, 70, "explaining")
        proposals = _proposals(run, problem, result, offers, demands)
        _finish(run, result, proposals, time.perf_counter() - started)
    except Exception as exc:
        db.session.rollback()
        run = db.session.get(MatchRun, run_id)
        run.status, run.error, run.finished_at = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000], utcnow()
        db.session.commit()
        log.exception("matcher run %s failed", run_id)
    return run


def _progress(run: MatchRun, percent: int, stage: str, status: RunStatus | None = None) -> None:
    run.progress, run.stage = percent, stage
    if status is not None:
        run.status, run.started_at = status, utcnow()
    db.session.commit()


def market() -> tuple[list[Offer], list[Demand]]:
    """Open listings with tonnes left whose enterprise is verified, in id order."""
    def open_of(model, *loads):
        return list(db.session.scalars(
            select(model).join(Enterprise, Enterprise.id == model.enterprise_id)
            .where(model.status == ListingStatus.OPEN, model.remaining_kg > 0,
                   Enterprise.status == EnterpriseStatus.VERIFIED)
            .options(selectinload(model.site), *(selectinload(x) for x in loads)).order_by(model.id)))

    return open_of(Offer, Offer.quality, Offer.enterprise), open_of(Demand, Demand.codes, Demand.limits, Demand.enterprise)


def snapshot(problem: Problem) -> dict:
    """The run's input in ``match-file`` JSON form."""
    def limits(demand):
        return {k: {side: v for side, v in (("min", lim.min), ("max", lim.max)) if v is not None}
                for k, lim in demand.limits.items()}

    return {
        "offers": [{"id": o.id, "sw_code": o.sw_code, "tonnes": o.kg / 1000, "lat": o.lat, "lon": o.lon,
                    "class": o.waste_class, "quality": dict(o.quality), "max_km": o.max_km, "owner": o.owner}
                   for o in problem.offers],
        "demands": [{"id": d.id, "accepts": sorted(d.accepts), "accepts_class": sorted(d.accepts_class or []),
                     "tonnes": d.kg / 1000, "lat": d.lat, "lon": d.lon, "max_km": d.max_km, "limits": limits(d),
                     "owner": d.owner}
                    for d in problem.demands],
    }


def _proposals(run: MatchRun, problem: Problem, result: Result, offers: list[Offer],
               demands: list[Demand]) -> list[Proposal]:
    """One proposal per allocation, with its explanation."""
    alternatives: dict[int, list[dict]] = {}
    proposals = []
    for allocation in result.allocations:
        offer, demand = offers[allocation.offer], demands[allocation.demand]
        if allocation.demand not in alternatives:
            views = explain.explain(problem, result, allocation.demand, limit=ALTERNATIVES)
            alternatives[allocation.demand] = [explanation.alternative(v) for v in views if v.kind != "allocated"]
        start, end = default_period(offer, demand)
        facts = explanation.pair_facts(offer, demand, allocation.kg, allocation.metres, run.yuan_per_tkm)
        facts["alternatives"] = alternatives[allocation.demand]
        proposals.append(Proposal(
            run_id=run.id, offer_id=offer.id, demand_id=demand.id, offer_enterprise_id=offer.enterprise_id,
            demand_enterprise_id=demand.enterprise_id, kg=allocation.kg, metres=allocation.metres,
            price_per_t=explanation.proposed_price(offer, demand), period_start=start, period_end=end,
            explanation=facts))
    return proposals


def _finish(run: MatchRun, result: Result, proposals: list[Proposal], seconds: float) -> None:
    """Withdraw earlier runs' untouched proposals, store the new ones and the totals: one commit."""
    superseded = db.session.scalars(select(Proposal).where(
        Proposal.run_id.is_not(None), Proposal.run_id != run.id, Proposal.status == ProposalStatus.PENDING,
        Proposal.offer_decision == Decision.PENDING, Proposal.demand_decision == Decision.PENDING))
    for old in superseded:
        old.status = ProposalStatus.WITHDRAWN
    db.session.add_all(proposals)
    db.session.flush()
    announce_run(run.id, proposals)
    run.matched_kg, run.cost_kg_m = result.matched_kg, result.cost_kg_m
    run.unmatched_offer_kg, run.unmet_demand_kg = result.unmatched_offer_kg, result.unmet_demand_kg
    run.optimal, run.seconds = result.optimal, Decimal(f"{seconds:.3f}")
    run.status, run.progress, run.stage, run.finished_at = RunStatus.DONE, 100, "done", utcnow()
    db.session.commit()
