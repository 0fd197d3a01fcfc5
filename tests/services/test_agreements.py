"""Proposals and agreements: matcher runs propose, both sides decide, agreements reserve tonnes."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import make_stream, make_user
from tests.services.test_market_service import add_quality, market, new_demand, new_offer  # noqa: F401 - fixtures
from wasteex.agreements import service
from wasteex.agreements.models import Agreement, Decision, Proposal, ProposalStatus
from wasteex.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.market import service as service_market
from wasteex.matching import runs
from wasteex.matching.models import MatchRun, RunStatus

RATE = Decimal("0.45")


def run_once(actor) -> MatchRun:
    run = runs.start(actor)
    db.session.commit()
    return runs.execute(run.id)


@pytest.fixture
def traded(market):
    """A's 1200.5 t fly-ash offer; B (far) and C (near) each want 500 t/month — C for six months."""
    w = market
    w.offer = new_offer(w)
    w.demand_c = new_demand(w.carol, w.site_c, supply="one_off", tonnes="800", window_start=None, window_end=None,
                            tonnes_per_month=None)
    return w


def test_a_run_proposes_the_optimum_with_its_explanation(traded):
    w = traded
    run = run_once(w.regulator)
    assert run.status is RunStatus.DONE and run.optimal and run.progress == 100
    assert run.snapshot["offers"][0]["id"] == str(w.offer.id)
    (proposal,) = run.proposals
    assert (proposal.offer_id, proposal.demand_id, proposal.kg) == (w.offer.id, w.demand_c.id, 800_000)
    assert run.matched_kg == 800_000 and run.unmatched_offer_kg == 400_500
    facts = proposal.explanation
    assert facts["km"] == str((Decimal(proposal.metres) / 1000).quantize(Decimal("0.001")))
    assert Decimal(facts["transport_yuan"]) == (Decimal(800) * Decimal(facts["km"]) * RATE).quantize(Decimal("0.01"))
    assert facts["ask_per_t"] == "-35.00" and facts["bid_per_t"] == "20.00" and facts["spread_per_t"] == "55.00"
    assert proposal.price_per_t == Decimal("-7.50")  # the spread split evenly
    (limit,) = facts["quality"]
    assert (limit["key"], limit["value"], limit["min"], limit["margin"]) == ("al2o3_pct", "45.2000", "40.0000", "5.2000")


def test_both_sides_accept_and_the_tonnes_are_reserved(traded):
    w = traded
    (proposal,) = run_once(w.admin).proposals
    service.decide(w.carol, proposal.id, accept=True)
    db.session.commit()
    assert proposal.status is ProposalStatus.PENDING and proposal.demand_decision is Decision.ACCEPTED
    assert w.offer.remaining_kg == w.offer.total_kg  # nothing reserved on one acceptance
    service.decide(w.alice, proposal.id, accept=True)
    db.session.commit()
    agreement = proposal.agreement
    assert proposal.status is ProposalStatus.AGREED
    assert agreement.contract_no.startswith("HT-") and len(agreement.contract_no) == 18
    assert (agreement.kg, agreement.remaining_kg, agreement.producer_id, agreement.utiliser_id) == (
        800_000, 800_000, w.a.id, w.c.id)
    db.session.refresh(w.offer), db.session.refresh(w.demand_c)
    assert w.offer.remaining_kg == 400_500 and w.demand_c.remaining_kg == 0
    with pytest.raises(InvalidTransition):
        service.decide(w.alice, proposal.id, accept=True)


def test_declining_needs_a_reason_and_ends_the_proposal(traded):
    w = traded
    (proposal,) = run_once(w.regulator).proposals
    with pytest.raises(ValidationFailed) as refused:
        service.decide(w.alice, proposal.id, accept=False, reason=" ")
    assert "reason" in refused.value.fields
    db.session.rollback()
    service.decide(w.alice, proposal.id, accept=False, reason="价格太低")
    db.session.commit()
    assert proposal.status is ProposalStatus.DECLINED and proposal.offer_reason == "价格太低"
    with pytest.raises(InvalidTransition):
        service.decide(w.carol, proposal.id, accept=True)


def test_who_sees_and_who_decides(traded):
    w = traded
    (proposal,) = run_once(w.regulator).proposals
    with pytest.raises(NotFound):  # B is no party: the proposal does not exist for it
        service.get_proposal(w.bob, proposal.id)
    assert service.proposals_for(w.bob) == [] and service.proposals_for(w.carol) == [proposal]
    assert service.get_proposal(w.regulator, proposal.id) is proposal
    with pytest.raises(PermissionDenied):
        service.decide(w.regulator, proposal.id, accept=True)
    with pytest.raises(PermissionDenied):
        runs.start(w.alice)


def test_only_one_run_at_a_time_and_a_new_run_withdraws_untouched_proposals(traded):
    w = traded
    first = run_once(w.regulator)
    runs.start(w.regulator)
    db.session.commit()
    with pytest.raises(Conflict):
        runs.start(w.admin)
    db.session.rollback()
    queued = db.session.scalar(select(MatchRun).where(MatchRun.status == RunStatus.QUEUED))
    runs.execute(queued.id)
    assert first.proposals[0].status is ProposalStatus.WITHDRAWN
    assert queued.proposals[0].status is ProposalStatus.PENDING


def test_a_failed_run_writes_no_proposal(traded, monkeypatch):
    w = traded
    run = runs.start(w.regulator)
    db.session.commit()

    def explode(*_args, **_kwargs):
        raise MemoryError("out of memory while explaining")

    monkeypatch.setattr(runs.explain, "explain", explode)
    runs.execute(run.id)
    db.session.refresh(run)
    assert run.status is RunStatus.FAILED and "out of memory" in run.error
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_direct_proposal_from_a_demand_page(traded):
    w = traded
    proposal = service.propose(w.carol, {"offer_id": w.offer.id, "demand_id": w.demand_c.id, "tonnes": "100.5",
                                         "price_per_t": "-10"}, RATE)
    db.session.commit()
    assert proposal.run_id is None and proposal.demand_decision is Decision.ACCEPTED
    assert proposal.offer_decision is Decision.PENDING and proposal.price_per_t == Decimal("-10.00")
    service.decide(w.alice, proposal.id, accept=True)
    db.session.commit()
    assert proposal.agreement.kg == 100_500


@pytest.mark.parametrize("changes, field", [
    ({"tonnes": "0"}, "tonnes"),
    ({"tonnes": "1.0001"}, "tonnes"),
    ({"tonnes": "900"}, "tonnes"),  # more than the demand's 800 t
    ({"period_start": "2020-01-01"}, "period_start"),
    ({"period_start": "2030-02-01", "period_end": "2030-01-01"}, "period_end"),
    ({"demand_id": "x"}, "demand_id"),
])
def test_direct_proposal_refusals_name_the_field(traded, changes, field):
    w = traded
    data = {"offer_id": w.offer.id, "demand_id": w.demand_c.id, "tonnes": "10"} | changes
    with pytest.raises(ValidationFailed) as refused:
        service.propose(w.carol, data, RATE)
    assert field in refused.value.fields


def test_direct_proposal_respects_the_matcher_rules(traded):
    w = traded
    far = new_demand(w.bob, w.site_b, supply="one_off", tonnes="10", tonnes_per_month=None, window_start=None,
                     window_end=None, max_km=50)
    with pytest.raises(ValidationFailed) as refused:
        service.propose(w.bob, {"offer_id": w.offer.id, "demand_id": far.id, "tonnes": "5"}, RATE)
    assert "50" in refused.value.fields["demand_id"][0]
    stranger = make_user("eve@e.cn")
    with pytest.raises(PermissionDenied):
        service.propose(stranger, {"offer_id": w.offer.id, "demand_id": w.demand_c.id, "tonnes": "5"}, RATE)


def test_acceptance_beyond_what_is_left_changes_nothing(traded):
    w = traded
    first = service.propose(w.carol, {"offer_id": w.offer.id, "demand_id": w.demand_c.id, "tonnes": "700"}, RATE)
    second = service.propose(w.carol, {"offer_id": w.offer.id, "demand_id": w.demand_c.id, "tonnes": "700"}, RATE)
    db.session.commit()
    service.decide(w.alice, first.id, accept=True)
    db.session.commit()
    with pytest.raises(Conflict):
        service.decide(w.alice, second.id, accept=True)
    db.session.rollback()
    db.session.refresh(second), db.session.refresh(w.demand_c)
    assert second.offer_decision is Decision.PENDING and w.demand_c.remaining_kg == 100_000
    assert db.session.scalar(select(func.count()).select_from(Agreement)) == 1


def test_a_run_never_pairs_an_enterprise_with_itself(traded):
    """C also produces fly ash next door to its own demand; the run sends it nowhere near C."""
    w = traded
    w.c.is_producer = True
    own_stream = make_stream(w.c, w.site_c, "SW02", name="丙厂自产粉煤灰")
    add_quality(own_stream, "al2o3_pct", "45")
    own = service_market.create_offer(w.carol, {"stream_id": own_stream.id, "title": "自产", "supply": "one_off",
                                                "tonnes": "800", "price_per_t": "0", "transport_by": "either"})
    service_market.change_status(w.carol, own, "publish")
    db.session.commit()
    run = run_once(w.regulator)
    assert run.snapshot["offers"][1]["owner"] == str(w.c.id)
    assert {(p.offer_id, p.demand_id) for p in run.proposals} == {(w.offer.id, w.demand_c.id)}
