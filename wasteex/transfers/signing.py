"""Signing a slip's sections: one ``sign(kind)`` for emission, transport, reception and operation.

Each signature is a separate act by a writer of the right enterprise (the
producer, the carrier of the next leg, the receiver), after a recent
authentication; it fills and freezes its section, stores who, when and from
where, moves the slip by the status machine, and writes its ledger lines —
all in the caller's one transaction. Of two concurrent signatures of the same
section exactly one wins: the slip row is locked, the status moves by a
conditional UPDATE, and ``(slip, act, leg)`` is unique.

Bulk signing signs each slip in its own savepoint and reports the outcome of
every one, so a weighbridge office can sign dozens of trucks and see which
ones were refused and why.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wasteex import security_log
from wasteex.accounts.models import User
from wasteex.accounts.permissions import can_write_enterprise, require_business_writer
from wasteex.accounts.reauth import AuthEvidence, require_recent_auth
from wasteex.audit.service import record
from wasteex.catalog.models import Route
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise
from wasteex.errors import Conflict, DomainError, PermissionDenied
from wasteex.extensions import db
from wasteex.ledger.rates import tonnes_to_kg
from wasteex.market import terms
from wasteex.market.terms import fail
from wasteex.transfers import announce, ledger_lines, queries, states
from wasteex.transfers.models import TransferLeg, TransferSignature, TransferSlip
from wasteex.transfers.service import advance, facts_of, get_slip, max_load_kg, next_status, signed_date, trucks_of
from wasteex.transfers.states import Act

MAX_BULK = 200


@dataclass(frozen=True)
class Origin:
    """Where a signature came from (stored with it)."""

    ip: str | None = None
    user_agent: str | None = None


def parse_act(raw) -> Act:
    try:
        act = raw if isinstance(raw, Act) else Act(str(raw))
    except ValueError:
        act = None
    if act not in states.SIGNATURES:
        fail("kind", _("The signature kind must be emission, transport, reception or operation."))
    return act


def signer_enterprise(slip: TransferSlip, act: Act) -> int:
    """The enterprise whose writer signs ``act`` now."""
    if act is Act.EMISSION:
        return slip.producer_id
    if act is Act.TRANSPORT:
        leg = next_leg(slip)
        return leg.carrier_id if leg else slip.producer_id
    return slip.receiver_id


def next_leg(slip: TransferSlip) -> TransferLeg | None:
    return next((leg for leg in slip.legs if leg.signed_at is None), None)


def may_sign(actor: User, slip: TransferSlip, act: Act) -> bool:
    return can_write_enterprise(actor, signer_enterprise(slip, act))


def open_acts(actor: User, slip: TransferSlip) -> list[Act]:
    """The signatures the actor may give on this slip now (the forms a page offers): the machine
    allows the act and the actor writes for the enterprise that signs it."""
    facts = facts_of(slip)
    allowed = []
    for act in states.SIGNATURES:
        try:
            states.check(act, facts)
        except states.TransitionRefused:
            continue
        if may_sign(actor, slip, act):
            allowed.append(act)
    return allowed


def ready_to_sign(actor: User, act: Act, limit: int = MAX_BULK) -> list[TransferSlip]:
    """The slips in the actor's "to sign" box whose next signature is ``act`` and the actor's to give
    (what the bulk-signing page lists), oldest first: the trucks that arrived first are signed first."""
    stmt = (queries.slips_for(actor, queries.Box.TO_SIGN).where(TransferSlip.status.in_(states.TABLE[act].sources))
            .order_by(None).order_by(TransferSlip.id).limit(limit))
    return [slip for slip in db.session.scalars(stmt) if act in open_acts(actor, slip)]


def sign(actor: User, slip_id: int, kind, data: dict, *, evidence: AuthEvidence | None = None,
         origin: Origin = Origin()) -> TransferSlip:
    """Sign one section of one slip (see the module docstring)."""
    require_business_writer(actor)
    act = parse_act(kind)
    slip = get_slip(actor, slip_id, lock=True)
    if not may_sign(actor, slip, act):
        raise PermissionDenied(_("Only a member of %(name)s can sign this section.",
                                 name=_party_name(slip, act)))
    require_recent_auth(actor, evidence=evidence)
    return _sign_locked(actor, slip, act, data, origin)


def _party_name(slip: TransferSlip, act: Act) -> str:
    return db.session.get(Enterprise, signer_enterprise(slip, act)).name


def _sign_locked(actor: User, slip: TransferSlip, act: Act, data: dict, origin: Origin) -> TransferSlip:
    facts = facts_of(slip)
    next_status(act, facts)  # refuse an act out of order before reading what the signer states
    leg = next_leg(slip) if act is Act.TRANSPORT else None
    enterprise_id = signer_enterprise(slip, act)
    section, acceptance = SECTIONS[act](slip, data, leg)
    advance(slip, next_status(act, replace(facts, acceptance=acceptance)))
    signature = TransferSignature(slip_id=slip.id, act=act, leg_position=leg.position if leg else 0,
                                  enterprise_id=enterprise_id, user_id=actor.id,
                                  signer_name=actor.name, signed_at=utcnow(), ip=origin.ip,
                                  user_agent=(origin.user_agent or "")[:255] or None, section=section)
    slip.signatures.append(signature)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise Conflict(_("Someone else has just signed this slip; reload it.")) from error
    signature.ledger_entry_ids = [entry.id for entry in LEDGER[act](slip, actor)]
    record(actor, f"slip.signed.{act.value}", slip, enterprise_id=signature.enterprise_id, number=slip.number,
           leg=signature.leg_position, section=section)
    security_log.event("slip.signed", user=actor, enterprise_id=signature.enterprise_id, slip=slip.number,
                       kind=act.value, leg=signature.leg_position)
    announce.next_signature(slip, actor)
    if act is Act.RECEPTION:
        announce.reception(slip, actor)
    return slip


# Sections: validate what the signer states, fill the slip, return the frozen values. -----------

def _weight(data: dict, name: str, *, allow_zero: bool, trucks: int) -> int:
    raw = data.get(name)
    if terms.blank(raw):
        if allow_zero:
            return 0
        fail(name, _("Enter the weighed tonnes."))
    try:
        kg = tonnes_to_kg(raw)
    except (ValueError, TypeError):
        kg = -1
    if kg < 0 or (kg == 0 and not allow_zero):
        fail(name, _("Enter the weighed tonnes: a number above zero with at most 3 decimals.")
             if not allow_zero else _("Enter the tonnes: zero or more, with at most 3 decimals."))
    if kg > max_load_kg(trucks):
        fail(name, _("Not plausible: %(n)s truck(s) carry at most %(t)s t.", n=trucks,
                     t=current_app.config["SLIP_MAX_LOAD_T"] * trucks))
    return kg


def _emission(slip: TransferSlip, data: dict, _leg) -> tuple[dict, None]:
    slip.dispatched_kg = _weight(data, "dispatched_t", allow_zero=False, trucks=trucks_of(slip))
    slip.dispatched_on = signed_date(data, "dispatched_on")
    slip.emission_handler = terms.text(data, "handler", 120, required=True)
    slip.emitted_at = utcnow()
    return {"dispatched_kg": slip.dispatched_kg, "dispatched_on": slip.dispatched_on.isoformat(),
            "handler": slip.emission_handler}, None


def _transport(slip: TransferSlip, data: dict, leg: TransferLeg | None) -> tuple[dict, None]:
    if leg is None:
        raise Conflict(_("Every carrier leg is already signed."))
    leg.taken_over_on = signed_date(data, "taken_over_on")
    if slip.dispatched_on and leg.taken_over_on < slip.dispatched_on:
        fail("taken_over_on", _("The carrier cannot take over before the dispatch date."))
    leg.signed_at = utcnow()
    return {"leg": leg.position, "carrier_id": leg.carrier_id, "plates": leg.plates, "driver": leg.driver,
            "taken_over_on": leg.taken_over_on.isoformat()}, None


def _reception(slip: TransferSlip, data: dict, _leg) -> tuple[dict, states.Acceptance]:
    trucks = trucks_of(slip)
    received = _weight(data, "received_t", allow_zero=False, trucks=trucks)
    refused = _weight(data, "refused_t", allow_zero=True, trucks=trucks)
    if refused > received:
        fail("refused_t", _("More cannot be refused than was received."))
    reason = terms.text(data, "refusal_reason", 2000, required=refused > 0)
    slip.received_on = signed_date(data, "received_on")
    if slip.received_on < slip.dispatched_on:
        fail("received_on", _("The reception cannot come before the dispatch date."))
    slip.received_kg, slip.refused_kg, slip.refusal_reason = received, refused, reason or None
    slip.acceptance = states.acceptance_of(received, refused)
    slip.reception_handler = terms.text(data, "handler", 120, required=True)
    slip.discrepancy_kg = states.discrepancy_kg(slip.dispatched_kg, received,
                                                Decimal(current_app.config["SLIP_TOLERANCE"]))
    slip.legs_unsigned = states.unsigned_legs(facts_of(slip))
    slip.received_at = utcnow()
    return {"received_kg": received, "refused_kg": refused, "acceptance": slip.acceptance.value,
            "refusal_reason": reason, "received_on": slip.received_on.isoformat(), "handler": slip.reception_handler,
            "discrepancy_kg": slip.discrepancy_kg, "legs_unsigned": slip.legs_unsigned}, slip.acceptance


def _operation(slip: TransferSlip, data: dict, _leg) -> tuple[dict, None]:
    key = terms.text(data, "route_key", 40, required=True)
    route = db.session.scalar(select(Route).where(Route.key == key, Route.active.is_(True)))
    if route is None or not route.fits(slip.sw_code):
        fail("route_key", _("Choose a utilisation or disposal route that fits %(code)s.", code=slip.sw_code))
    slip.operation_route_id, slip.operation_route = route.id, route
    slip.operated_on = signed_date(data, "operated_on")
    if slip.operated_on < slip.received_on:
        fail("operated_on", _("The operation cannot come before the reception."))
    slip.product = terms.text(data, "product", 255) or None
    slip.operation_handler = terms.text(data, "handler", 120, required=True)
    slip.closed_at = utcnow()
    return {"route": route.key, "operated_on": slip.operated_on.isoformat(), "product": slip.product,
            "handler": slip.operation_handler}, None


SECTIONS = {Act.EMISSION: _emission, Act.TRANSPORT: _transport, Act.RECEPTION: _reception,
            Act.OPERATION: _operation}
LEDGER = {Act.EMISSION: lambda slip, actor: [ledger_lines.shipment(slip, actor)],
          Act.TRANSPORT: lambda slip, actor: [],
          Act.RECEPTION: ledger_lines.reception,
          Act.OPERATION: ledger_lines.operation}


# Bulk -------------------------------------------------------------------------

@dataclass(frozen=True)
class BulkOutcome:
    slip_id: int
    ok: bool
    number: str | None = None
    message: str = ""
    fields: dict | None = None


def sign_many(actor: User, slip_ids: list[int], kind, data: dict, *, evidence: AuthEvidence | None = None,
              origin: Origin = Origin()) -> list[BulkOutcome]:
    """Sign the same section of many slips with the same statement (date, handler; weights per slip
    in ``data["weights"][slip_id]`` when the section needs them). One re-authentication for all."""
    require_business_writer(actor)
    act = parse_act(kind)
    ids = list(dict.fromkeys(slip_ids))
    if not ids:
        fail("slip_ids", _("Choose at least one slip."))
    if len(ids) > MAX_BULK:
        fail("slip_ids", _("At most %(n)s slips at once.", n=MAX_BULK))
    weights = {str(key): value for key, value in (data.get("weights") or {}).items()}
    unknown = set(weights) - {str(slip_id) for slip_id in ids}
    if unknown:
        fail("weights", _("Weights are given for a slip that is not being signed: %(key)s.",
                          key=sorted(unknown)[0][:20]))
    require_recent_auth(actor, evidence=evidence)
    return [_sign_one(actor, slip_id, act, {**data, **(weights.get(str(slip_id)) or {})}, origin) for slip_id in ids]


def _sign_one(actor: User, slip_id: int, act: Act, data: dict, origin: Origin) -> BulkOutcome:
    savepoint = db.session.begin_nested()
    try:
        slip = get_slip(actor, slip_id, lock=True)
        if not may_sign(actor, slip, act):
            raise PermissionDenied(_("Only a member of %(name)s can sign this section.", name=_party_name(slip, act)))
        _sign_locked(actor, slip, act, data, origin)
        savepoint.commit()
        return BulkOutcome(slip_id, True, slip.number)
    except DomainError as error:
        savepoint.rollback()
        return BulkOutcome(slip_id, False, None, error.message, error.fields)
