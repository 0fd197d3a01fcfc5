"""What a new proposal tells the two enterprises (called by ``agreements.service`` and ``matching.runs``).

A direct proposal is one notice to each side (the proposer left out). A
matcher run is one notice per enterprise for all its new proposals of the run,
not one per proposal: a city-wide run can propose dozens to one power plant.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from wasteex.accounts.models import User
from wasteex.agreements.models import Decision, Proposal
from wasteex.notifications import N_
from wasteex.notifications.models import NotificationKind
from wasteex.notifications.service import notify, path_for
from wasteex.numbers import plain


def _tonnes(kg: int) -> str:
    return plain(Decimal(kg) / 1000)


def announce_direct(actor: User, proposal: Proposal) -> None:
    """Both sides hear of a direct proposal; the proposing side has accepted it by making it."""
    proposer = (proposal.offer if proposal.offer_decision is Decision.ACCEPTED else proposal.demand).enterprise
    payload = {"proposal_id": proposal.id, "run_id": None, "offer_id": proposal.offer_id,
               "demand_id": proposal.demand_id, "sw_code": proposal.offer.sw_code, "kg": proposal.kg,
               "tonnes": _tonnes(proposal.kg), "price_per_t": str(proposal.price_per_t),
               "km": plain(proposal.km.quantize(Decimal("0.1"))), "producer": proposal.offer.enterprise.name,
               "utiliser": proposal.demand.enterprise.name, "proposer": proposer.name}
    url = path_for("agreements.proposal", proposal_id=proposal.id)
    for enterprise_id in (proposal.offer_enterprise_id, proposal.demand_enterprise_id):
        notify(enterprise_id, NotificationKind.PROPOSAL_RECEIVED,
               N_("New proposal: %(tonnes)s t of %(sw_code)s from %(producer)s to %(utiliser)s"), url, payload,
               body=N_("Proposed by %(proposer)s at %(price_per_t)s yuan/t over %(km)s km. "
                       "Accept or decline it on its page."),
               exclude_user_id=actor.id)


def announce_run(run_id: int, proposals: list[Proposal]) -> None:
    """One notice per enterprise with proposals in the run (the proposals must have their ids)."""
    mine: dict[int, list[Proposal]] = defaultdict(list)
    for proposal in proposals:
        for enterprise_id in (proposal.offer_enterprise_id, proposal.demand_enterprise_id):
            mine[enterprise_id].append(proposal)
    url = path_for("agreements.proposals", status="pending")
    for enterprise_id, theirs in sorted(mine.items()):
        kg = sum(p.kg for p in theirs)
        notify(enterprise_id, NotificationKind.PROPOSAL_RECEIVED,
               N_("Matcher run %(run_id)s proposes %(count)s deals to your enterprise, %(tonnes)s t in all"), url,
               {"run_id": run_id, "count": len(theirs), "kg": kg, "tonnes": _tonnes(kg),
                "proposal_ids": [p.id for p in theirs]},
               body=N_("Each proposal explains its distance, price and quality; accept or decline it."))
