"""Deciding proposals and concluding agreements, for the web, the API and jobs alike.

Who: the writers (admins, members) of the offer's enterprise decide for the
offer side, those of the demand's enterprise for the demand side; both
parties and read-all accounts see the proposal, nobody else learns it exists.

Nothing is over-allocated. The proposal row is locked (``FOR UPDATE``; on
SQLite the write transaction already serialises) so that two parties
accepting at once cannot both miss the other's acceptance, and the
kilograms leave each listing through one conditional UPDATE
(``remaining_kg >= :kg``) whose row count says whether they were there —
a lost race is a Conflict and the whole transaction rolls back. The
``CHECK (remaining_kg >= 0)`` constraints are the last line behind it.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from wasteex.accounts.models import User
from wasteex.accounts.permissions import can_write_enterprise, require_business_writer
from wasteex.agreements.explanation import pair_facts, proposed_price
from wasteex.agreements.models import Agreement, Decision, Proposal, ProposalStatus, Side
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from wasteex.extensions import db
from wasteex.market import service as market, terms
from wasteex.market.models import Demand, ListingStatus, Offer
from wasteex.market.recommend import explain as explain_reason, pure_demand, pure_offer
from wasteex.market.terms import fail
from wasteex.matching import geodesy, problem
from wasteex.notifications.proposals import announce_direct
from wasteex.numbering import readable_number

DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 366 * 5


# Seeing ------------------------------------------------------------------------

def side_of(actor: User, proposal: Proposal) -> Side | None:
    """The side ``actor`` may decide for, if any."""
    for side in Side:
        if can_write_enterprise(actor, proposal.enterprise_of(side)):
            return side
    return None


def can_see(actor: User, proposal: Proposal) -> bool:
    return actor.reads_everything or any(actor.role_in(proposal.enterprise_of(side)) is not None for side in Side)


def get_proposal(actor: User, proposal_id: int, *, lock: bool = False) -> Proposal:
    stmt = select(Proposal).where(Proposal.id == proposal_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    proposal = db.session.scalar(stmt)
    if proposal is None or not can_see(actor, proposal):
        raise NotFound(_("No such proposal."))
    return proposal


def proposals_for(actor: User, *, status: ProposalStatus | None = None, run_id: int | None = None) -> list[Proposal]:
    """The proposals of the actor's enterprises (all of them for read-all accounts), newest first."""
    stmt = select(Proposal).order_by(Proposal.created_at.desc(), Proposal.id.desc())
    if not actor.reads_everything:
        mine = [m.enterprise_id for m in actor.memberships]
        stmt = stmt.where(or_(Proposal.offer_enterprise_id.in_(mine), Proposal.demand_enterprise_id.in_(mine)))
    if status is not None:
        stmt = stmt.where(Proposal.status == status)
    if run_id is not None:
        stmt = stmt.where(Proposal.run_id == run_id)
    return list(db.session.scalars(stmt))


def agreements_for(actor: User) -> list[Agreement]:
    stmt = select(Agreement).order_by(Agreement.created_at.desc(), Agreement.id.desc())
    if not actor.reads_everything:
        mine = [m.enterprise_id for m in actor.memberships]
        stmt = stmt.where(or_(Agreement.producer_id.in_(mine), Agreement.utiliser_id.in_(mine)))
    return list(db.session.scalars(stmt))


def get_agreement(actor: User, agreement_id: int) -> Agreement:
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or not (actor.reads_everything or actor.role_in(agreement.producer_id) is not None
                                 or actor.role_in(agreement.utiliser_id) is not None):
        raise NotFound(_("No such agreement."))
    return agreement


# Deciding ----------------------------------------------------------------------

def decide(actor: User, proposal_id: int, accept: bool, reason: str = "") -> Proposal:
    """Record one side's answer; the second acceptance concludes the agreement in the same transaction."""
    require_business_writer(actor)
    proposal = get_proposal(actor, proposal_id, lock=True)
    side = side_of(actor, proposal)
    if side is None:
        raise PermissionDenied(_("Only a member of one of the two enterprises can answer a proposal."))
    if proposal.status is not ProposalStatus.PENDING:
        raise InvalidTransition(_("This proposal is no longer open."))
    if proposal.decision_of(side) is not Decision.PENDING:
        raise InvalidTransition(_("Your enterprise has already answered this proposal."))
    reason = terms.text({"reason": reason}, "reason", 1000, required=not accept)
    _set_decision(proposal, side, actor, Decision.ACCEPTED if accept else Decision.DECLINED, reason)
    if not accept:
        proposal.status = ProposalStatus.DECLINED
    elif all(proposal.decision_of(s) is Decision.ACCEPTED for s in Side):
        conclude(actor, proposal)
    record(actor, "proposal.accepted" if accept else "proposal.declined", proposal,
           enterprise_id=proposal.enterprise_of(side), side=side.value, reason=reason)
    return proposal


def _set_decision(proposal: Proposal, side: Side, actor: User, decision: Decision, reason: str) -> None:
    prefix = side.value
    setattr(proposal, f"{prefix}_decision", decision)
    setattr(proposal, f"{prefix}_decided_by_id", actor.id)
    setattr(proposal, f"{prefix}_decided_at", utcnow())
    setattr(proposal, f"{prefix}_reason", reason)


def conclude(actor: User, proposal: Proposal) -> Agreement:
    """Reserve the kilograms on both listings and write the agreement (委托利用协议)."""
    for listing in (proposal.offer, proposal.demand):
        if not listing.enterprise.is_verified:
            raise Conflict(_("Both enterprises must be verified to conclude an agreement."))
    reserve(Offer, proposal.offer_id, proposal.kg, _("The offer no longer has %(t)s t left to agree on."))
    reserve(Demand, proposal.demand_id, proposal.kg, _("The demand no longer needs %(t)s t."))
    agreement = Agreement(
        contract_no=new_contract_no(), proposal=proposal, offer_id=proposal.offer_id, demand_id=proposal.demand_id,
        producer_id=proposal.offer_enterprise_id, utiliser_id=proposal.demand_enterprise_id,
        sw_code=proposal.offer.sw_code, kg=proposal.kg, remaining_kg=proposal.kg, price_per_t=proposal.price_per_t,
        period_start=proposal.period_start, period_end=proposal.period_end)
    db.session.add(agreement)
    proposal.status = ProposalStatus.AGREED
    db.session.flush()
    for enterprise_id in (agreement.producer_id, agreement.utiliser_id):
        record(actor, "agreement.concluded", agreement, enterprise_id=enterprise_id,
               contract_no=agreement.contract_no, kg=agreement.kg)
    return agreement


def reserve(model: type[Offer] | type[Demand], listing_id: int, kg: int, message: str) -> None:
    """Take ``kg`` from an open listing's remaining tonnage, or refuse: never below zero."""
    taken = db.session.execute(
        update(model).where(model.id == listing_id, model.status == ListingStatus.OPEN, model.remaining_kg >= kg)
        .values(remaining_kg=model.remaining_kg - kg).execution_options(synchronize_session="fetch"))
    if taken.rowcount != 1:
        raise Conflict(message % {"t": terms.plain(Decimal(kg) / 1000)})


def new_contract_no(today: date | None = None) -> str:
    """``HT-20261128-7F3K2Q``: the day and 30 random bits, readable over the phone."""
    return readable_number("HT", today)


# Proposing directly -----------------------------------------------------------

def default_period(offer: Offer, demand: Demand, today: date | None = None) -> tuple[date, date]:
    """Where both listings' windows overlap from today on; a quarter when neither has one."""
    start = max([today or date.today()] + [d for d in (offer.window_start, demand.window_start) if d])
    ends = [d for d in (offer.window_end, demand.window_end) if d]
    end = min(ends) if ends else start + timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    return start, max(start, end)


def _period(data: dict, offer: Offer, demand: Demand) -> tuple[date, date]:
    start, end = default_period(offer, demand)
    days = {}
    for name, default in (("period_start", start), ("period_end", end)):
        raw = data.get(name)
        try:
            days[name] = default if terms.blank(raw) else (raw if isinstance(raw, date) else date.fromisoformat(str(raw)))
        except ValueError:
            fail(name, _("Enter a date as YYYY-MM-DD."))
    if days["period_start"] < date.today():
        fail("period_start", _("The period cannot start in the past."))
    if days["period_end"] < days["period_start"]:
        fail("period_end", _("The period must end on or after its start."))
    if (days["period_end"] - days["period_start"]).days > MAX_PERIOD_DAYS:
        fail("period_end", _("An agreement runs for at most five years."))
    return days["period_start"], days["period_end"]


def pair_metres(offer: Offer, demand: Demand) -> int:
    metres = geodesy.geodesic_m(*(float(x) for x in (offer.site.latitude, offer.site.longitude,
                                                     demand.site.latitude, demand.site.longitude)))
    return round(float(metres))


def propose(actor: User, data: dict, yuan_per_tkm: Decimal) -> Proposal:
    """One party proposes terms for an offer and a demand, accepting them itself; the other decides.

    The pair must pass the matcher's compatibility rules, both listings must
    be open with the tonnes left, and the proposer must write for one side.
    """
    require_business_writer(actor)
    offer = _open_listing(actor, market.get_offer, data.get("offer_id"), "offer_id", _("Choose an open offer."))
    demand = _open_listing(actor, market.get_demand, data.get("demand_id"), "demand_id", _("Choose an open demand."))
    if offer.enterprise_id == demand.enterprise_id:
        fail("demand_id", _("An enterprise cannot make an agreement with itself."))
    side = next((s for s, listing in ((Side.OFFER, offer), (Side.DEMAND, demand))
                 if can_write_enterprise(actor, listing.enterprise_id)), None)
    if side is None:
        raise PermissionDenied(_("Propose from one of your own enterprise's offers or demands."))
    if not (offer.enterprise.is_verified and demand.enterprise.is_verified):
        fail("demand_id", _("Both enterprises must be verified to agree."))
    metres = pair_metres(offer, demand)
    why_not = problem.incompatibility(pure_offer(offer), pure_demand(demand), metres)
    if why_not is not None:
        fail("demand_id", explain_reason(why_not, demand))
    kg = terms.positive_kg(data.get("tonnes"), "tonnes")
    if kg > min(offer.remaining_kg, demand.remaining_kg):
        fail("tonnes", _("At most %(t)s t: what both listings still have.",
                         t=terms.plain(Decimal(min(offer.remaining_kg, demand.remaining_kg)) / 1000)))
    price = proposed_price(offer, demand) if terms.blank(data.get("price_per_t")) else terms.price(data.get("price_per_t"))
    start, end = _period(data, offer, demand)
    proposal = Proposal(
        offer=offer, demand=demand, offer_enterprise_id=offer.enterprise_id, demand_enterprise_id=demand.enterprise_id,
        kg=kg, metres=metres, price_per_t=price, period_start=start, period_end=end, created_by_id=actor.id,
        explanation=pair_facts(offer, demand, kg, metres, yuan_per_tkm))
    _set_decision(proposal, side, actor, Decision.ACCEPTED, "")
    db.session.add(proposal)
    db.session.flush()
    record(actor, "proposal.created", proposal, enterprise_id=offer.enterprise_id if side is Side.OFFER
           else demand.enterprise_id, kg=kg)
    announce_direct(actor, proposal)
    return proposal


def counterparts_for(actor: User, listing: Offer | Demand) -> list[Offer] | list[Demand]:
    """The actor's open listings of the other kind that could be proposed to ``listing``."""
    if actor.reads_everything:
        return []
    model = Demand if isinstance(listing, Offer) else Offer
    mine = [m.enterprise_id for m in actor.memberships
            if m.enterprise_id != listing.enterprise_id and can_write_enterprise(actor, m.enterprise_id)]
    return list(db.session.scalars(select(model).where(
        model.enterprise_id.in_(mine), model.status == ListingStatus.OPEN, model.remaining_kg > 0).order_by(model.id)))


def _open_listing(actor: User, getter, raw, field: str, message: str):
    if not str(raw or "").isdigit():
        fail(field, message)
    try:
        listing = getter(actor, int(raw))
    except NotFound:
        fail(field, message)
    if listing.status is not ListingStatus.OPEN or listing.remaining_kg <= 0:
        fail(field, message)
    return listing
