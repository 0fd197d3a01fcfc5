"""Revision requests: after publication a slip is never edited in place.

The producer or the receiver asks for a correction (the plan before the
emission signature; the dispatched weight while the load is on its way) or a
cancellation (before the emission signature), with a reason; the other of
the two approves or rejects it. Only an approval applies the change. The
request keeps the old and the new value of every field, so the original
values stay visible on the slip forever. A corrected weight reverses the
producer's ledger line and writes it again, both linked to the original.

One request may be pending per slip at a time: two crossing corrections of
the same field would otherwise be approved in either order.
"""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from wasteex.accounts.models import User
from wasteex.accounts.permissions import can_write_enterprise, require_business_writer
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from wasteex.extensions import db
from wasteex.market import terms
from wasteex.market.terms import fail
from wasteex.transfers import announce, ledger_lines
from wasteex.transfers.models import RevisionStatus, SlipRevision, TransferSlip
from wasteex.transfers.service import (
    advance, facts_of, get_slip, give_back_to_agreement, max_load_kg, next_status, parse_date, parse_plates,
    take_from_agreement, trucks_of,
)
from wasteex.transfers.states import Act, SlipStatus

BEFORE_EMISSION = frozenset({SlipStatus.PUBLISHED})
IN_TRANSIT = frozenset({SlipStatus.EMITTED, SlipStatus.TRANSPORTED})
# field → (statuses in which it may be revised, how to read the current value)
REVISABLE = {
    "planned_t": (BEFORE_EMISSION, lambda s: terms.plain(Decimal(s.planned_kg) / 1000)),
    "planned_on": (BEFORE_EMISSION, lambda s: s.planned_on.isoformat()),
    "itinerary": (BEFORE_EMISSION | IN_TRANSIT, lambda s: s.itinerary),
    "plates": (BEFORE_EMISSION, lambda s: ", ".join(s.legs[0].plates)),
    "driver": (BEFORE_EMISSION, lambda s: s.legs[0].driver),
    "dispatched_t": (IN_TRANSIT, lambda s: terms.plain(Decimal(s.dispatched_kg) / 1000)),
}


def counterparty(slip: TransferSlip, enterprise_id: int) -> int:
    return slip.receiver_id if enterprise_id == slip.producer_id else slip.producer_id


def request(actor: User, slip_id: int, data: dict) -> SlipRevision:
    """Ask the counterparty to approve a correction (``changes``: field → new value) or a cancellation."""
    require_business_writer(actor)
    slip = get_slip(actor, slip_id, lock=True)
    requester = next((e for e in (slip.producer_id, slip.receiver_id) if can_write_enterprise(actor, e)), None)
    if requester is None:
        raise PermissionDenied(_("Only the producer or the receiver can ask to revise a slip."))
    if slip.status is SlipStatus.DRAFT:
        raise InvalidTransition(_("A draft is not published yet: discard it and write it again."))
    if pending(slip) is not None:
        raise Conflict(_("A revision of this slip is already waiting for an answer."))
    reason = terms.text(data, "reason", 2000, required=True)
    cancel = data.get("cancel") is True or str(data.get("cancel")).lower() in ("true", "1", "on", "y")
    if cancel:
        next_status(Act.CANCEL, facts_of(slip))
        changes = {}
    else:
        changes = _changes(slip, data.get("changes"))
    revision = SlipRevision(slip_id=slip.id, cancel=cancel, changes=changes, reason=reason,
                            requested_by_enterprise_id=requester, requested_by_id=actor.id,
                            approver_enterprise_id=counterparty(slip, requester))
    db.session.add(revision)
    db.session.flush()
    record(actor, "slip.revision_requested", slip, enterprise_id=requester, number=slip.number,
           revision=revision.id, cancel=cancel, changes=changes, reason=reason)
    announce.revision_requested(revision, actor)
    return revision


def pending(slip: TransferSlip) -> SlipRevision | None:
    return next((r for r in slip.revisions if r.status is RevisionStatus.PENDING), None)


def _changes(slip: TransferSlip, raw) -> dict:
    if not isinstance(raw, dict) or not raw:
        fail("changes", _("Say what should change, or ask for a cancellation."))
    changes = {}
    for name, value in raw.items():
        if name not in REVISABLE:
            fail("changes", _("%(field)s cannot be revised.", field=str(name)[:40]))
        allowed, current = REVISABLE[name]
        if slip.status not in allowed:
            fail(name, _("This field is signed and can no longer be revised at this step."))
        new = _normalised(slip, name, value)
        if new != current(slip):
            changes[name] = [current(slip), new]
    if not changes:
        fail("changes", _("The requested values are the same as the slip's."))
    return changes


def _normalised(slip: TransferSlip, name: str, value) -> str:
    """Validate a requested value as the slip's own parsers would, and return its text form."""
    if name in ("planned_t", "dispatched_t"):
        kg = terms.positive_kg(value, name)
        if kg > max_load_kg(trucks_of(slip)):
            fail(name, _("%(n)s truck(s) cannot carry that much.", n=trucks_of(slip)))
        return terms.plain(Decimal(kg) / 1000)
    if name == "planned_on":
        day = parse_date({name: value}, name)
        if not slip.agreement.period_start <= day <= slip.agreement.period_end:
            fail(name, _("The dispatch date must lie within the agreement's period."))
        return day.isoformat()
    if name == "plates":
        return ", ".join(parse_plates(value, name))
    return terms.text({name: value}, name, 2000 if name == "itinerary" else 120, required=name == "driver")


def get_revision(actor: User, revision_id: int) -> SlipRevision:
    revision = db.session.get(SlipRevision, revision_id)
    if revision is None:
        raise NotFound(_("No such revision request."))
    get_slip(actor, revision.slip_id)  # NotFound unless the actor may read the slip
    return revision


def decide(actor: User, revision_id: int, approve: bool, note: str = "") -> SlipRevision:
    """The counterparty approves (the change applies now) or rejects (with a note) a pending request."""
    require_business_writer(actor)
    revision = get_revision(actor, revision_id)
    slip = get_slip(actor, revision.slip_id, lock=True)
    if not can_write_enterprise(actor, revision.approver_enterprise_id):
        raise PermissionDenied(_("Only the counterparty can answer this revision request."))
    if revision.status is not RevisionStatus.PENDING:
        raise InvalidTransition(_("This revision request has already been answered."))
    note = terms.text({"note": note}, "note", 2000, required=not approve)
    if approve:
        _apply(actor, slip, revision)
    revision.status = RevisionStatus.APPROVED if approve else RevisionStatus.REJECTED
    revision.decided_by_id, revision.decided_at, revision.decision_note = actor.id, utcnow(), note
    record(actor, "slip.revision_approved" if approve else "slip.revision_rejected", slip,
           enterprise_id=revision.approver_enterprise_id, number=slip.number, revision=revision.id, note=note)
    announce.revision_decided(revision, actor, approve)
    return revision


def _apply(actor: User, slip: TransferSlip, revision: SlipRevision) -> None:
    """Apply an approved request, re-checking it against the slip as it is now."""
    if revision.cancel:
        advance(slip, next_status(Act.CANCEL, facts_of(slip)))
        give_back_to_agreement(slip.agreement_id, slip.planned_kg)
        return
    for name, (old, new) in revision.changes.items():
        if slip.status not in REVISABLE[name][0]:
            raise InvalidTransition(_("The slip has moved on since the request; it can no longer be applied."))
        APPLY[name](slip, new)
    if "dispatched_t" in revision.changes:
        number = db.session.scalar(select(db.func.count()).select_from(SlipRevision).where(
            SlipRevision.slip_id == slip.id, SlipRevision.status == RevisionStatus.APPROVED)) + 1
        entries = ledger_lines.correct_shipment(slip, actor, revision.reason, number)
        revision.ledger_entry_ids = [e.id for e in entries]


def _planned(slip: TransferSlip, value: str) -> None:
    kg = terms.positive_kg(value, "planned_t")
    if kg > slip.planned_kg:
        take_from_agreement(slip.agreement_id, kg - slip.planned_kg)
    else:
        give_back_to_agreement(slip.agreement_id, slip.planned_kg - kg)
    slip.planned_kg = kg


def _set(attribute: str, convert=lambda v: v, on_leg: bool = False):
    def apply(slip: TransferSlip, value: str) -> None:
        setattr(slip.legs[0] if on_leg else slip, attribute, convert(value))
    return apply


APPLY = {
    "planned_t": _planned,
    "planned_on": _set("planned_on", lambda v: parse_date({"planned_on": v}, "planned_on")),
    "itinerary": _set("itinerary"),
    "plates": _set("plates", lambda v: parse_plates(v, "plates"), on_leg=True),
    "driver": _set("driver", on_leg=True),
    "dispatched_t": _set("dispatched_kg", lambda v: terms.positive_kg(v, "dispatched_t")),
}
