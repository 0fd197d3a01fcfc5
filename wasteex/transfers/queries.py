"""Finding slips: an enterprise's boxes ("to sign", "in transit", "done", drafts), search, follow-up.

The boxes are what a weighbridge office works from: *to sign* holds the
slips whose next signature belongs to one of the actor's enterprises. Search
matches the slip number, the contract number, or the actor's own enterprise
references (ERP numbers) — never another enterprise's.

``flagged_slips`` is the follow-up list: overdue in transit (dispatched, not
received within SLIP_TRANSIT_HOURS), overdue at the receiver (received, no
operation within SLIP_OPERATION_DAYS), weight discrepancies beyond the
tolerance, and receptions closed over an unsigned carrier leg.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from wasteex.accounts.models import User
from wasteex.extensions import db
from wasteex.listing import Sorts
from wasteex.transfers.models import SlipTag, TransferLeg, TransferSlip
from wasteex.transfers.states import DONE, IN_TRANSIT, SlipStatus


class Box(enum.Enum):
    TO_SIGN = "to_sign"
    IN_TRANSIT = "in_transit"
    DONE = "done"
    DRAFTS = "drafts"
    ALL = "all"


def _member_of(actor: User) -> list[int]:
    return [m.enterprise_id for m in actor.memberships]


def visible(actor: User):
    """Slips the actor may read: published ones it is a party to (all, for read-all accounts), and its drafts."""
    mine = _member_of(actor) or [-1]
    drafts = (TransferSlip.status == SlipStatus.DRAFT) & TransferSlip.author_id.in_(mine)
    if actor.reads_everything:
        return or_(TransferSlip.status != SlipStatus.DRAFT, drafts)
    carried = select(TransferLeg.slip_id).where(TransferLeg.carrier_id.in_(mine))
    party = or_(TransferSlip.producer_id.in_(mine), TransferSlip.receiver_id.in_(mine), TransferSlip.id.in_(carried))
    return or_((TransferSlip.status != SlipStatus.DRAFT) & party, drafts)


def _to_sign(actor: User):
    mine = _member_of(actor) or [-1]
    earlier = aliased(TransferLeg)
    unsigned_before = select(earlier.id).where(earlier.slip_id == TransferLeg.slip_id, earlier.signed_at.is_(None),
                                               earlier.position < TransferLeg.position).exists()
    next_carrier = select(TransferLeg.slip_id).where(TransferLeg.carrier_id.in_(mine), TransferLeg.signed_at.is_(None),
                                                     ~unsigned_before)
    return or_(
        (TransferSlip.status == SlipStatus.PUBLISHED) & TransferSlip.producer_id.in_(mine),
        TransferSlip.status.in_(IN_TRANSIT) & TransferSlip.receiver_id.in_(mine),
        TransferSlip.status.in_(IN_TRANSIT) & TransferSlip.id.in_(next_carrier),
        (TransferSlip.status == SlipStatus.RECEIVED) & TransferSlip.receiver_id.in_(mine),
    )


BOXES = {
    Box.TO_SIGN: _to_sign,
    Box.IN_TRANSIT: lambda actor: TransferSlip.status.in_(IN_TRANSIT | {SlipStatus.RECEIVED}),
    Box.DONE: lambda actor: TransferSlip.status.in_(DONE),
    Box.DRAFTS: lambda actor: TransferSlip.status == SlipStatus.DRAFT,
    Box.ALL: lambda actor: TransferSlip.id.isnot(None),
}


SORTS = Sorts({"id": TransferSlip.id, "number": TransferSlip.number, "planned_on": TransferSlip.planned_on,
               "status": TransferSlip.status, "planned_kg": TransferSlip.planned_kg}, "-id")


def slips_for(actor: User, box: Box = Box.ALL, q: str = "", status: SlipStatus | None = None):
    """A select of the actor's slips in ``box``, newest first, optionally searched and by status."""
    stmt = select(TransferSlip).where(visible(actor), BOXES[box](actor))
    if status is not None:
        stmt = stmt.where(TransferSlip.status == status)
    q = (q or "").strip()
    if q:
        tagged = select(SlipTag.slip_id).where(SlipTag.enterprise_id.in_(_member_of(actor) or [-1]),
                                               SlipTag.reference.contains(q, autoescape=True))
        stmt = stmt.where(or_(TransferSlip.number.contains(q.upper(), autoescape=True),
                              TransferSlip.contract_no.contains(q.upper(), autoescape=True),
                              TransferSlip.id.in_(tagged)))
    return stmt.order_by(TransferSlip.id.desc())


class Flag(enum.Enum):
    OVERDUE_IN_TRANSIT = "overdue_in_transit"
    OVERDUE_OPERATION = "overdue_operation"
    DISCREPANCY = "discrepancy"
    LEG_UNSIGNED = "leg_unsigned"


@dataclass(frozen=True)
class Flagged:
    slip: TransferSlip
    flags: tuple[Flag, ...]


def flags_of(slip: TransferSlip, now: datetime) -> tuple[Flag, ...]:
    config = current_app.config
    flags = []
    if slip.status in IN_TRANSIT and slip.emitted_at and \
            now - slip.emitted_at > timedelta(hours=int(config["SLIP_TRANSIT_HOURS"])):
        flags.append(Flag.OVERDUE_IN_TRANSIT)
    if slip.status is SlipStatus.RECEIVED and slip.received_at and \
            now - slip.received_at > timedelta(days=int(config["SLIP_OPERATION_DAYS"])):
        flags.append(Flag.OVERDUE_OPERATION)
    if slip.discrepancy_kg is not None:
        flags.append(Flag.DISCREPANCY)
    if slip.legs_unsigned:
        flags.append(Flag.LEG_UNSIGNED)
    return tuple(flags)


def flagged_slips(now: datetime, actor: User | None = None) -> list[Flagged]:
    """Slips needing follow-up (see the module docstring); all of them, or those ``actor`` may read."""
    config = current_app.config
    transit_limit = now - timedelta(hours=int(config["SLIP_TRANSIT_HOURS"]))
    operation_limit = now - timedelta(days=int(config["SLIP_OPERATION_DAYS"]))
    stmt = select(TransferSlip).where(or_(
        TransferSlip.status.in_(IN_TRANSIT) & (TransferSlip.emitted_at < transit_limit),
        (TransferSlip.status == SlipStatus.RECEIVED) & (TransferSlip.received_at < operation_limit),
        TransferSlip.discrepancy_kg.isnot(None),
        TransferSlip.legs_unsigned > 0,
    )).order_by(TransferSlip.id)
    if actor is not None:
        stmt = stmt.where(visible(actor))
    return [Flagged(slip, flags_of(slip, now)) for slip in db.session.scalars(stmt)]


def references_of(actor: User, slip_ids: list[int]) -> dict[int, str]:
    """The actor's enterprises' own references (ERP numbers) of these slips, for list rows."""
    rows = db.session.execute(select(SlipTag.slip_id, SlipTag.reference).where(
        SlipTag.slip_id.in_(slip_ids or [-1]), SlipTag.enterprise_id.in_(_member_of(actor) or [-1]))
        .order_by(SlipTag.enterprise_id))
    return {slip_id: reference for slip_id, reference in rows}
