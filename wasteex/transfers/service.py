"""Creating, publishing, reading and tagging transfer slips.

Who sees a slip: while it is a draft, only its author enterprise; once
published, the producer, the receiver, every carrier on its legs, and the
read-all accounts. Nobody else learns it exists (404, not 403).

A slip takes its planned tonnage from the agreement's ``remaining_kg`` by a
conditional UPDATE, as proposals take theirs from listings: a slip against an
exhausted agreement is refused and two slips racing for the last tonnes
cannot both get them. Signatures live in ``signing.py``, corrections in
``revisions.py``.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from wasteex.accounts.models import User
from wasteex.accounts.permissions import can_write_enterprise, require_business_writer
from wasteex.agreements.models import Agreement, AgreementStatus
from wasteex.agreements.service import get_agreement
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise, EnterpriseStatus
from wasteex.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from wasteex.extensions import db
from wasteex.market import terms
from wasteex.market.terms import fail
from wasteex.numbering import readable_number
from wasteex.plates import is_valid_plate, normalise_plate
from wasteex.transfers import announce, states
from wasteex.transfers.models import SlipTag, TransferLeg, TransferSlip
from wasteex.transfers.states import Act, SlipStatus

MAX_LEGS = 5
MAX_TRUCKS = 50  # plates on one leg: a batch of loads
_PLATE_SEPARATORS = re.compile(r"[\s,，、;；]+")


# Reading ----------------------------------------------------------------------

def party_ids(slip: TransferSlip) -> set[int]:
    return {slip.producer_id, slip.receiver_id, *(leg.carrier_id for leg in slip.legs)}


def can_read(actor: User, slip: TransferSlip) -> bool:
    if slip.status is SlipStatus.DRAFT:
        return actor.role_in(slip.author_id) is not None
    return actor.reads_everything or any(actor.role_in(e) is not None for e in party_ids(slip))


def get_slip(actor: User, slip_id: int, *, lock: bool = False) -> TransferSlip:
    stmt = select(TransferSlip).where(TransferSlip.id == slip_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    slip = db.session.scalar(stmt)
    if slip is None or not can_read(actor, slip):
        raise NotFound(_("No such transfer slip."))
    return slip


def max_load_kg(trucks: int) -> int:
    """What ``trucks`` lorries can plausibly carry (SLIP_MAX_LOAD_T each)."""
    return int(current_app.config["SLIP_MAX_LOAD_T"]) * 1000 * max(trucks, 1)


def trucks_of(slip: TransferSlip) -> int:
    return max((len(leg.plates) for leg in slip.legs), default=1)


# Creating ---------------------------------------------------------------------

def create(actor: User, agreement_id: int, data: dict) -> TransferSlip:
    """Write a draft slip under an agreement, for its producer or its utiliser."""
    require_business_writer(actor)
    agreement = get_agreement(actor, agreement_id)
    author_id = next((e for e in (agreement.producer_id, agreement.utiliser_id) if can_write_enterprise(actor, e)),
                     None)
    if author_id is None:
        raise PermissionDenied(_("Only a member of the producer or the utiliser can write a slip for this agreement."))
    if agreement.status is not AgreementStatus.ACTIVE:
        raise InvalidTransition(_("This agreement is no longer active."))
    planned_kg = terms.positive_kg(data.get("planned_t"), "planned_t")
    planned_on = parse_date(data, "planned_on")
    if not agreement.period_start <= planned_on <= agreement.period_end:
        fail("planned_on", _("The dispatch date must lie within the agreement's period (%(start)s – %(end)s).",
                             start=agreement.period_start.isoformat(), end=agreement.period_end.isoformat()))
    legs = parse_legs(data.get("legs"), agreement)
    trucks = max(len(leg.plates) for leg in legs)
    if planned_kg > max_load_kg(trucks):
        fail("planned_t", _("%(n)s truck(s) cannot carry that much: add plates or plan several slips.", n=trucks))
    take_from_agreement(agreement.id, planned_kg)
    offer, demand = agreement.offer, agreement.demand
    slip = TransferSlip(
        number=readable_number("WX"), agreement_id=agreement.id, contract_no=agreement.contract_no,
        producer_id=agreement.producer_id, receiver_id=agreement.utiliser_id, author_id=author_id,
        stream_id=offer.stream_id, sw_code=offer.sw_code, origin_site_id=offer.site_id,
        destination_site_id=demand.site_id, route_id=demand.route_id, planned_kg=planned_kg, planned_on=planned_on,
        itinerary=terms.text(data, "itinerary", 2000), created_by_id=actor.id, legs=legs)
    db.session.add(slip)
    db.session.flush()
    record(actor, "slip.created", slip, enterprise_id=author_id, number=slip.number, kg=planned_kg)
    return slip


def take_from_agreement(agreement_id: int, kg: int) -> None:
    """Plan ``kg`` against the agreement, or refuse: its remaining tonnage never goes below zero."""
    taken = db.session.execute(
        update(Agreement).where(Agreement.id == agreement_id, Agreement.status == AgreementStatus.ACTIVE,
                                Agreement.remaining_kg >= kg)
        .values(remaining_kg=Agreement.remaining_kg - kg).execution_options(synchronize_session="fetch"))
    if taken.rowcount != 1:
        fail("planned_t", _("The agreement has not that much tonnage left to ship."))


def give_back_to_agreement(agreement_id: int, kg: int) -> None:
    """Return planned tonnage (a cancelled or reduced slip) to the agreement."""
    db.session.execute(update(Agreement).where(Agreement.id == agreement_id)
                       .values(remaining_kg=Agreement.remaining_kg + kg).execution_options(synchronize_session="fetch"))


def parse_legs(raw, agreement: Agreement) -> list[TransferLeg]:
    """Carrier legs in order: each a verified carrier (or one of the two parties), plates, a driver."""
    if not isinstance(raw, list) or not raw:
        fail("legs", _("Name at least the first carrier, its plate numbers and the driver."))
    if len(raw) > MAX_LEGS:
        fail("legs", _("At most %(n)s carrier legs.", n=MAX_LEGS))
    return [_leg(i, item, agreement) for i, item in enumerate(raw)]


def _field(index: int, name: str) -> str:
    """The first leg's fields have plain names (the form's); later ones ``legs.1.plates`` …"""
    return name if index == 0 else f"legs.{index}.{name}"


def _leg(index: int, item, agreement: Agreement) -> TransferLeg:
    if not isinstance(item, dict):
        fail(_field(index, "carrier_id"), _("Each leg needs a carrier, plates and a driver."))
    carrier = _carrier(index, item.get("carrier_id"), agreement)
    plates = parse_plates(item.get("plates"), _field(index, "plates"))
    driver = str(item.get("driver") or "").strip()
    if not driver or len(driver) > 120:
        fail(_field(index, "driver"), _("Enter the driver's name (at most 120 characters)."))
    return TransferLeg(position=index + 1, carrier_id=carrier.id, plates=plates, driver=driver)


def _carrier(index: int, raw, agreement: Agreement) -> Enterprise:
    field = _field(index, "carrier_id")
    try:
        carrier = db.session.get(Enterprise, int(raw))
    except (TypeError, ValueError, OverflowError):
        carrier = None
    if carrier is None or not carrier.is_verified:
        fail(field, _("Choose a verified carrier."))
    if not (carrier.is_carrier or carrier.id in (agreement.producer_id, agreement.utiliser_id)):
        fail(field, _("%(name)s is not registered as a carrier.", name=carrier.name))
    return carrier


def carrier_candidates(agreement: Agreement) -> list[Enterprise]:
    """Who may carry a slip of this agreement (the choices of a form; ``_carrier`` checks the same):
    verified carriers, and the two parties when they haul it themselves."""
    parties = (agreement.producer_id, agreement.utiliser_id)
    return list(db.session.scalars(select(Enterprise).where(
        Enterprise.status == EnterpriseStatus.VERIFIED, or_(Enterprise.is_carrier, Enterprise.id.in_(parties)))
        .order_by(Enterprise.id.notin_(parties), Enterprise.name)))


def parse_plates(raw, field: str) -> list[str]:
    """Plate numbers from a list or one text ("蒙K12345, 蒙K2345D"), each a valid Chinese plate."""
    items = raw if isinstance(raw, list) else _PLATE_SEPARATORS.split(str(raw or ""))
    plates = [normalise_plate(str(p)) for p in items if str(p).strip()]
    if not plates:
        fail(field, _("Enter at least one plate number."))
    if len(plates) > MAX_TRUCKS:
        fail(field, _("At most %(n)s trucks on one leg.", n=MAX_TRUCKS))
    wrong = [p for p in plates if not is_valid_plate(p)]
    if wrong:
        fail(field, _("%(plate)s is not a Chinese plate number (e.g. 蒙K12345, or 蒙K12345D for a new-energy truck).",
                      plate=wrong[0]))
    if len(set(plates)) != len(plates):
        fail(field, _("A plate number is listed twice."))
    return plates


def parse_date(data: dict, name: str, *, not_future: bool = False) -> date:
    raw = data.get(name)
    try:
        day = raw if isinstance(raw, date) else date.fromisoformat(str(raw or "").strip())
    except ValueError:
        fail(name, _("Enter a date as YYYY-MM-DD."))
    if not_future and day > date.today():
        fail(name, _("The date cannot be in the future."))
    if day < date.today() - timedelta(days=366 * 5):
        fail(name, _("The date is too far in the past."))
    return day


def signed_date(data: dict, name: str) -> date:
    """A date a signature states: today or earlier."""
    return parse_date(data, name, not_future=True)


# Publishing -------------------------------------------------------------------

def publish(actor: User, slip_id: int) -> TransferSlip:
    """Make the draft visible to every party: from now on it changes only by signatures and revisions."""
    slip = get_slip(actor, slip_id, lock=True)
    if not can_write_enterprise(actor, slip.author_id):
        raise PermissionDenied(_("Only the enterprise that wrote the slip can publish it."))
    advance(slip, next_status(Act.PUBLISH, facts_of(slip)))
    slip.published_at = utcnow()
    record(actor, "slip.published", slip, enterprise_id=slip.author_id, number=slip.number)
    announce.next_signature(slip, actor)
    return slip


def discard(actor: User, slip_id: int) -> None:
    """Delete a draft (nothing was shown to anyone) and give its tonnage back to the agreement."""
    slip = get_slip(actor, slip_id, lock=True)
    if not can_write_enterprise(actor, slip.author_id):
        raise PermissionDenied(_("Only the enterprise that wrote the slip can discard it."))
    if slip.status is not SlipStatus.DRAFT:
        raise InvalidTransition(_("Only a draft can be discarded; ask for a cancellation instead."))
    give_back_to_agreement(slip.agreement_id, slip.planned_kg)
    record(actor, "slip.discarded", slip, enterprise_id=slip.author_id, number=slip.number)
    db.session.delete(slip)


def facts_of(slip: TransferSlip, acceptance: states.Acceptance | None = None) -> states.SlipFacts:
    return states.SlipFacts(slip.status, len(slip.legs), slip.legs_signed, acceptance)


def next_status(act: Act, facts: states.SlipFacts) -> SlipStatus:
    """The machine's verdict, as the domain error a user reads when it says no."""
    try:
        return states.check(act, facts)
    except states.TransitionRefused as refused:
        raise InvalidTransition(_(refused.reason)) from refused


def advance(slip: TransferSlip, target: SlipStatus) -> None:
    """Move the slip with a conditional UPDATE: of two racing acts exactly one moves it."""
    moved = db.session.execute(update(TransferSlip).where(TransferSlip.id == slip.id,
                                                          TransferSlip.status == slip.status)
                               .values(status=target).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise Conflict(_("Someone else has just signed this slip; reload it."))
    slip.status = target


# Tagging ----------------------------------------------------------------------

def tag(actor: User, slip_id: int, reference: str) -> SlipTag | None:
    """Set (or clear, with "") the actor's enterprise's own reference for the slip, e.g. its ERP number."""
    slip = get_slip(actor, slip_id)
    enterprise_id = next((e for e in sorted(party_ids(slip)) if can_write_enterprise(actor, e)), None)
    if enterprise_id is None:
        raise PermissionDenied(_("Only a party to the slip can tag it."))
    reference = terms.text({"reference": reference}, "reference", 64)
    current = db.session.get(SlipTag, (slip.id, enterprise_id))
    if not reference:
        if current is not None:
            db.session.delete(current)
        return None
    clash = db.session.scalar(select(SlipTag).where(SlipTag.enterprise_id == enterprise_id,
                                                    SlipTag.reference == reference, SlipTag.slip_id != slip.id))
    if clash is not None:
        fail("reference", _("Your enterprise already uses this reference on another slip."))
    if current is None:
        current = SlipTag(slip_id=slip.id, enterprise_id=enterprise_id, reference=reference)
        db.session.add(current)
    current.reference = reference
    return current


def tags_for(actor: User, slip: TransferSlip) -> list[SlipTag]:
    """The actor's enterprises' own references on this slip (never another enterprise's)."""
    mine = [e for e in party_ids(slip) if actor.role_in(e) is not None]
    return list(db.session.scalars(select(SlipTag).where(SlipTag.slip_id == slip.id,
                                                         SlipTag.enterprise_id.in_(mine or [-1]))))
