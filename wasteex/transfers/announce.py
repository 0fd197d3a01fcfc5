"""What a slip tells its parties: whose signature is awaited, discrepancies, revisions.

Called in the transaction of the act that caused it (``notify`` only flushes),
so a refused signature announces nothing. The actor's own enterprise hears
of its own act only when another of its people must do something next.
"""
from __future__ import annotations

from decimal import Decimal

from wasteex.accounts.models import User
from wasteex.notifications import N_
from wasteex.notifications.models import NotificationKind
from wasteex.notifications.service import notify, path_for
from wasteex.numbers import plain
from wasteex.transfers.models import SlipRevision, TransferSlip
from wasteex.transfers.states import SlipStatus


def _t(kg: int | None) -> str:
    return plain(Decimal(kg or 0) / 1000)


def payload(slip: TransferSlip, **extra) -> dict:
    return {"slip_id": slip.id, "number": slip.number, "sw_code": slip.sw_code, "status": slip.status.value,
            "producer": slip.producer.name, "receiver": slip.receiver.name, **extra}


def url_of(slip: TransferSlip) -> str:
    return path_for("transfers.slip", slip_id=slip.id)


def next_signature(slip: TransferSlip, actor: User) -> None:
    """After publication or a signature: tell the enterprise whose signature comes next."""
    leg = next((leg for leg in slip.legs if leg.signed_at is None), None)
    if slip.status is SlipStatus.PUBLISHED:
        whom, subject = slip.producer_id, N_("Slip %(number)s awaits your emission signature")
    elif slip.status in (SlipStatus.EMITTED, SlipStatus.TRANSPORTED) and leg is not None:
        whom, subject = leg.carrier_id, N_("Slip %(number)s: the load awaits your carrier's signature")
    elif slip.status in (SlipStatus.EMITTED, SlipStatus.TRANSPORTED):
        whom, subject = slip.receiver_id, N_("Slip %(number)s is on its way to you: sign the reception")
    else:
        return
    notify(whom, NotificationKind.SLIP_TO_SIGN, subject, url_of(slip), payload(slip), exclude_user_id=actor.id)


def reception(slip: TransferSlip, actor: User) -> None:
    """A weight difference beyond the tolerance, or refused tonnes: the producer must know."""
    if slip.discrepancy_kg is None and not slip.refused_kg:
        return
    weights = payload(slip, dispatched_t=_t(slip.dispatched_kg), received_t=_t(slip.received_kg),
                      refused_t=_t(slip.refused_kg), reason=slip.refusal_reason or "")
    notify(slip.producer_id, NotificationKind.DISCREPANCY,
           N_("Slip %(number)s: %(received_t)s t received of %(dispatched_t)s t dispatched, %(refused_t)s t refused"),
           url_of(slip), weights, body=N_("Refusal reason: %(reason)s") if slip.refusal_reason else "",
           exclude_user_id=actor.id)


def revision_requested(revision: SlipRevision, actor: User) -> None:
    slip = revision.slip
    subject = (N_("Cancellation of slip %(number)s requested: approve or reject it") if revision.cancel
               else N_("Correction of slip %(number)s requested: approve or reject it"))
    notify(revision.approver_enterprise_id, NotificationKind.REVISION_REQUEST, subject, url_of(slip),
           payload(slip, revision_id=revision.id, reason=revision.reason), body=N_("Reason: %(reason)s"),
           exclude_user_id=actor.id)


def revision_decided(revision: SlipRevision, actor: User, approved: bool) -> None:
    slip = revision.slip
    notify(revision.requested_by_enterprise_id, NotificationKind.REVISION_REQUEST,
           N_("Your revision of slip %(number)s was approved") if approved
           else N_("Your revision of slip %(number)s was rejected: %(note)s"),
           url_of(slip), payload(slip, revision_id=revision.id, note=revision.decision_note), exclude_user_id=actor.id)
