"""The transfer slip's status machine (转移联单), as a table with guards. Pure.

A slip moves only by named acts. Each act is allowed from a set of statuses,
by one party of the slip, and only when its guard holds; the table below is
the whole machine, so the service never decides a transition by itself::

    draft ─publish→ published ─emission→ emitted ─transport→ transported ─reception→ received ─operation→ closed
                        │                   └──────────────reception (leg unsigned: flagged)──┘   └→ refused
                        └─cancel→ cancelled

``transport`` signs one carrier leg at a time, in order; the slip stays
``transported`` until reception. A reception that refuses everything ends in
``refused`` (the tonnes went back to the producer) and needs no operation.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


def N_(message: str) -> str:
    """Marks a message for the catalog; the service translates it when it raises."""
    return message


class SlipStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"      # readable by every party, waiting for the producer's emission signature
    EMITTED = "emitted"          # 产生单位已签: dispatched over the weighbridge
    TRANSPORTED = "transported"  # at least one carrier leg signed
    RECEIVED = "received"        # 接收单位已签: weighed in, accepted in whole or in part
    CLOSED = "closed"            # operation signed: utilised or disposed
    REFUSED = "refused"          # reception refused everything: returned to the producer
    CANCELLED = "cancelled"      # by an approved revision request, before emission


class Act(enum.Enum):
    PUBLISH = "publish"
    EMISSION = "emission"
    TRANSPORT = "transport"
    RECEPTION = "reception"
    OPERATION = "operation"
    CANCEL = "cancel"


SIGNATURES = (Act.EMISSION, Act.TRANSPORT, Act.RECEPTION, Act.OPERATION)


class Party(enum.Enum):
    """Which enterprise of a slip may perform an act."""

    AUTHOR = "author"
    PRODUCER = "producer"
    CARRIER = "carrier"    # the carrier of the next unsigned leg
    RECEIVER = "receiver"


class Acceptance(enum.Enum):
    ACCEPTED = "accepted"
    PARTIAL = "partial"    # partially refused
    REFUSED = "refused"


@dataclass(frozen=True)
class SlipFacts:
    """What the guards need to know about one slip, nothing more."""

    status: SlipStatus
    legs_total: int
    legs_signed: int
    acceptance: Acceptance | None = None


@dataclass(frozen=True)
class Rule:
    sources: frozenset[SlipStatus]
    party: Party
    target: SlipStatus


_ = frozenset
TABLE: dict[Act, Rule] = {
    Act.PUBLISH: Rule(_({SlipStatus.DRAFT}), Party.AUTHOR, SlipStatus.PUBLISHED),
    Act.EMISSION: Rule(_({SlipStatus.PUBLISHED}), Party.PRODUCER, SlipStatus.EMITTED),
    Act.TRANSPORT: Rule(_({SlipStatus.EMITTED, SlipStatus.TRANSPORTED}), Party.CARRIER, SlipStatus.TRANSPORTED),
    Act.RECEPTION: Rule(_({SlipStatus.EMITTED, SlipStatus.TRANSPORTED}), Party.RECEIVER, SlipStatus.RECEIVED),
    Act.OPERATION: Rule(_({SlipStatus.RECEIVED}), Party.RECEIVER, SlipStatus.CLOSED),
    Act.CANCEL: Rule(_({SlipStatus.DRAFT, SlipStatus.PUBLISHED}), Party.AUTHOR, SlipStatus.CANCELLED),
}
del _

# Statuses in which the slip is somewhere on the road or at the receiver: used for lists and overdue checks.
IN_TRANSIT = frozenset({SlipStatus.EMITTED, SlipStatus.TRANSPORTED})
DONE = frozenset({SlipStatus.CLOSED, SlipStatus.REFUSED, SlipStatus.CANCELLED})


class TransitionRefused(Exception):
    """The act is not allowed now; ``reason`` says why in words a user understands (English msgid)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# The forward order of the statuses; refusal messages say whether an act comes too early or too late.
ORDER = (SlipStatus.DRAFT, SlipStatus.PUBLISHED, SlipStatus.EMITTED, SlipStatus.TRANSPORTED,
         SlipStatus.RECEIVED, SlipStatus.CLOSED)


def check(act: Act, facts: SlipFacts) -> SlipStatus:
    """The status after ``act``, or TransitionRefused. Party checks are the service's (it knows users)."""
    rule = TABLE[act]
    if facts.status not in rule.sources:
        raise TransitionRefused(_refusal(act, facts.status, rule))
    if act is Act.TRANSPORT and facts.legs_signed >= facts.legs_total:
        raise TransitionRefused(N_("Every carrier leg is already signed."))
    if act is Act.RECEPTION and facts.acceptance is Acceptance.REFUSED:
        return SlipStatus.REFUSED
    return rule.target


def _refusal(act: Act, status: SlipStatus, rule: Rule) -> str:
    if status in DONE:
        return N_("This slip is finished; it cannot change any more.")
    if ORDER.index(status) < min(ORDER.index(s) for s in rule.sources):
        return {Act.EMISSION: N_("Publish the slip before signing the emission."),
                Act.OPERATION: N_("Sign the reception before the operation.")}.get(
            act, N_("The producer has not signed the emission yet."))
    if act is Act.PUBLISH:
        return N_("The slip is already published.")
    if act is Act.CANCEL:
        return N_("A slip cannot be cancelled once the waste has left; the receiver can refuse it instead.")
    return N_("This section is already signed.")


def unsigned_legs(facts: SlipFacts) -> int:
    """Legs the receiver closes over when signing reception early: the slip is then flagged."""
    return max(facts.legs_total - facts.legs_signed, 0)


def acceptance_of(received_kg: int, refused_kg: int) -> Acceptance:
    """Accepted / partially refused / refused, from what was weighed and what was refused."""
    if refused_kg <= 0:
        return Acceptance.ACCEPTED
    return Acceptance.REFUSED if refused_kg >= received_kg else Acceptance.PARTIAL


def discrepancy_kg(dispatched_kg: int, received_kg: int, tolerance: Decimal) -> int | None:
    """received − dispatched when it exceeds the tolerance (a share of dispatched), else None."""
    difference = received_kg - dispatched_kg
    if abs(difference) > Decimal(dispatched_kg) * tolerance:
        return difference
    return None
