"""The ledger lines a slip's signatures write, in the signature's transaction.

- Emission → producer: entrusted utilisation or disposal out (附表7: carrier,
  plate, receiver and its credit code, contract number, route), counted as
  *in transit* until the receiver signs the operation.
- Reception → receiver: received (from whom, the accepted tonnes); refused
  tonnes → producer: returned into its storage, and out of transit.
- Operation → receiver: utilised or disposed (the route actually applied);
  the producer's shipment leaves transit and counts as entrusted utilisation
  (or disposal, if that is what the receiver did) — utilisation is counted
  where it really happens.

Each line goes through the ledger's own validation (``build_entry``) and its
hash chain; a refusal there aborts the signature, so no signature ever
leaves a ledger half-written. References are the slip number (plus ``-R``
for a return and ``-O`` for the operation), unique per enterprise.
"""
from __future__ import annotations

from decimal import Decimal

from wasteex.accounts.models import User
from wasteex.catalog.models import Route, RouteKind
from wasteex.extensions import db
from wasteex.ledger.models import EntryKind, EntrySource, LedgerEntry
from wasteex.ledger.service import EntryInput, build_entry, commit_to_chain, reversal_of, settle_transit
from wasteex.transfers.models import TransferSlip
from wasteex.transfers.states import Acceptance, Act


def _write(enterprise, inp: EntryInput, actor: User, *, in_transit: bool = False) -> LedgerEntry:
    entry = build_entry(enterprise, inp, actor, EntrySource.TRANSFER)
    return commit_to_chain(actor, entry, in_transit=in_transit)


def _tonnes(kg: int) -> Decimal:
    return Decimal(kg) / 1000


def _entrusted(route: Route) -> EntryKind:
    return EntryKind.ENTRUSTED_UTILISATION if route.kind is RouteKind.UTILISATION else EntryKind.ENTRUSTED_DISPOSAL


def _shipment_entry(slip: TransferSlip, actor: User, reference: str) -> LedgerEntry:
    first = slip.legs[0]
    return build_entry(slip.producer, EntryInput(
        kind=_entrusted(slip.route).value, period_date=slip.dispatched_on, tonnes=_tonnes(slip.dispatched_kg),
        handler=slip.emission_handler, stream_id=slip.stream_id, route_key=slip.route.key,
        counterparty_name=slip.receiver.name, counterparty_credit_code=slip.receiver.credit_code,
        carrier_name=first.carrier.name, plate_number=first.plates[0], contract_number=slip.contract_no,
        reference=reference), actor, EntrySource.TRANSFER)


def shipment(slip: TransferSlip, actor: User) -> LedgerEntry:
    """Emission: the producer's 附表7 line for the dispatched tonnes."""
    return commit_to_chain(actor, _shipment_entry(slip, actor, slip.number), in_transit=True)


def correct_shipment(slip: TransferSlip, actor: User, reason: str, revision_no: int) -> list[LedgerEntry]:
    """An approved correction of the dispatched weight, still in transit: the producer's line is
    reversed and written again with the new weight (the original stays, linked, in the chain)."""
    original = emission_entry(slip)
    reversal = commit_to_chain(actor, reversal_of(original, actor, reason), in_transit=True)
    replacement = _shipment_entry(slip, actor, f"{slip.number}-C{revision_no}")
    replacement.corrects_id, replacement.reason = original.id, reason
    return [reversal, commit_to_chain(actor, replacement, in_transit=True)]


def emission_entry(slip: TransferSlip) -> LedgerEntry:
    """The emission's ledger line: its period and stream key the in-transit totals (a corrected
    weight keeps both, so the original line keys them still)."""
    signature = next(s for s in slip.signatures if s.act is Act.EMISSION)
    return db.session.get(LedgerEntry, signature.ledger_entry_ids[0])


def reception(slip: TransferSlip, actor: User) -> list[LedgerEntry]:
    """Reception: the receiver's accepted tonnes in; refused tonnes back to the producer.

    The return is dated with the shipment it undoes, so the producer's period
    still balances: what left and came back never left.
    """
    written = []
    if slip.accepted_kg:
        written.append(_write(slip.receiver, EntryInput(
            kind=EntryKind.RECEIVED.value, period_date=slip.received_on, tonnes=_tonnes(slip.accepted_kg),
            handler=slip.reception_handler, sw_code=slip.sw_code, counterparty_name=slip.producer.name,
            counterparty_credit_code=slip.producer.credit_code, contract_number=slip.contract_no,
            reference=slip.number), actor))
    back = returned_kg(slip)
    if back:
        shipped = emission_entry(slip)
        written.append(_write(slip.producer, EntryInput(
            kind=EntryKind.RETURNED.value, period_date=shipped.period_date, tonnes=_tonnes(back),
            handler=slip.reception_handler, stream_id=slip.stream_id, counterparty_name=slip.receiver.name,
            counterparty_credit_code=slip.receiver.credit_code, reference=f"{slip.number}-R"), actor))
        settle_transit(shipped, back, None)
    return written


def returned_kg(slip: TransferSlip) -> int:
    """What goes back on the producer's books, in its own (dispatch) weights: everything it shipped
    when the load is refused, else the refused tonnes (never more than it shipped)."""
    if not slip.refused_kg:
        return 0
    if slip.acceptance is Acceptance.REFUSED:
        return slip.dispatched_kg
    return min(slip.refused_kg, slip.dispatched_kg)


def operation(slip: TransferSlip, actor: User) -> list[LedgerEntry]:
    """Operation: the receiver's utilisation or disposal; the producer's shipment leaves transit."""
    route = slip.operation_route
    kind = EntryKind.RECEIVED_UTILISED if route.kind is RouteKind.UTILISATION else EntryKind.RECEIVED_DISPOSED
    done = _write(slip.receiver, EntryInput(
        kind=kind.value, period_date=slip.operated_on, tonnes=_tonnes(slip.accepted_kg),
        handler=slip.operation_handler, sw_code=slip.sw_code, route_key=route.key, product=slip.product,
        reference=f"{slip.number}-O"), actor)
    # The producer's books keep its dispatch weight; a weighbridge difference is the slip's discrepancy.
    settle_transit(emission_entry(slip), slip.dispatched_kg - returned_kg(slip), _entrusted(route))
    return [done]
