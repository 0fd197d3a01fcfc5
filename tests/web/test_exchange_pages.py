"""Matcher runs, proposals and agreements through the pages, each party from its own account."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import login
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from wasteex.agreements.models import Agreement, Proposal, ProposalStatus
from wasteex.extensions import db
from wasteex.matching.models import MatchRun, RunStatus


def logged_in(client, user):
    """A fresh client signed in as ``user`` (each party uses its own browser)."""
    fresh = client.application.test_client()
    login(fresh, user)
    return fresh


def start_run(client) -> MatchRun:
    response = client.post("/matching/runs")
    assert response.status_code == 302
    run = db.session.scalar(select(MatchRun).order_by(MatchRun.id.desc()))
    assert response.headers["Location"].endswith(f"/matching/runs/{run.id}")
    return run


def test_a_run_through_the_pages_to_an_agreement(client, traded):
    w = traded
    client = logged_in(client, w.regulator)
    run = start_run(client)
    assert run.status is RunStatus.DONE  # no Redis configured: inline
    page = client.get(f"/matching/runs/{run.id}").get_data(as_text=True)
    assert "800" in page and w.offer.title in page
    proposal = db.session.scalar(select(Proposal))
    assert client.get(f"/matching/runs/{run.id}/progress").json["status"] == "done"

    client = logged_in(client, w.alice)
    page = client.get("/proposals").get_data(as_text=True)
    assert f"/proposals/{proposal.id}" in page
    detail = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "为什么是这个建议" in detail or "Why this proposal" in detail
    assert client.post(f"/proposals/{proposal.id}/accept").status_code == 302

    client = logged_in(client, w.carol)
    assert client.post(f"/proposals/{proposal.id}/accept").status_code == 302
    agreement = db.session.scalar(select(Agreement))
    page = client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert agreement.contract_no in page
    assert agreement.contract_no in client.get("/agreements").get_data(as_text=True)


def test_decline_without_reason_is_refused_next_to_the_field(client, traded):
    w = traded
    start_run(logged_in(client, w.admin))
    proposal = db.session.scalar(select(Proposal))
    response = logged_in(client, w.alice).post(f"/proposals/{proposal.id}/decline", data={"reason": ""})
    assert response.status_code == 422 and "is-invalid" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status is ProposalStatus.PENDING


def test_strangers_and_regulators(client, traded):
    w = traded
    start_run(logged_in(client, w.regulator))
    proposal = db.session.scalar(select(Proposal))
    client = logged_in(client, w.bob)
    assert client.get(f"/proposals/{proposal.id}").status_code == 404
    assert client.get("/matching/runs").status_code == 403
    assert client.post("/matching/runs").status_code == 403
    client = logged_in(client, w.regulator)
    assert client.get(f"/proposals/{proposal.id}").status_code == 200
    assert client.post(f"/proposals/{proposal.id}/accept").status_code == 403


def test_direct_proposal_from_the_offer_page(client, traded):
    w = traded
    client = logged_in(client, w.carol)
    page = client.get(f"/market/offers/{w.offer.id}").get_data(as_text=True)
    assert f"/market/offers/{w.offer.id}/propose" in page
    refused = client.post(f"/market/offers/{w.offer.id}/propose",
                          data={"counterpart": str(w.demand_c.id), "tonnes": "-1", "price_per_t": ""})
    assert refused.status_code == 422 and "is-invalid" in refused.get_data(as_text=True)
    sent = client.post(f"/market/offers/{w.offer.id}/propose",
                       data={"counterpart": str(w.demand_c.id), "tonnes": "50", "price_per_t": "-5"})
    assert sent.status_code == 302
    proposal = db.session.scalar(select(Proposal))
    assert proposal.kg == 50_000 and proposal.run_id is None
    client = logged_in(client, w.alice)
    assert client.post(f"/proposals/{proposal.id}/accept").status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status is ProposalStatus.AGREED
    # The producer has no demand to propose with: no button, and the form is not there.
    assert "/propose" not in client.get(f"/market/offers/{w.offer.id}").get_data(as_text=True)
    assert client.get(f"/market/offers/{w.offer.id}/propose").status_code == 404
