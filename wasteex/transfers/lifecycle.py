"""The full lifecycle (产生 → 运输 → 再利用 → 最终处置) of a slip, an agreement, a stream or an enterprise.

A timeline is assembled from what was stored when things happened — the
slip's creation and publication, every signature with its frozen section,
revision requests and answers — plus the ledger entries the signatures wrote,
each with its integrity: its hash recomputed from its stored content and its
link to the previous entry of the same chain. That check is local (two rows
per entry), so the lifecycle of one slip stays fast on a ledger of millions
of entries; ``flask ledger verify`` walks whole chains.

For a stream, the timeline starts earlier: its monthly generation as the
ledger records it, then the slips that carried it away.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from flask_babel import gettext as _
from sqlalchemy import func, select

from wasteex.accounts.models import User
from wasteex.accounts.permissions import require_enterprise_reader
from wasteex.agreements.service import get_agreement
from wasteex.extensions import db
from wasteex.ledger.chain import seal
from wasteex.ledger.chain_store import entry_fields
from wasteex.ledger.models import EntryKind, LedgerEntry
from wasteex.errors import NotFound
from wasteex.streams.models import WasteStream
from wasteex.transfers.models import TransferSlip
from wasteex.transfers.queries import visible
from wasteex.transfers.service import get_slip

MAX_SLIPS = 200  # a timeline of more is a report, not a page: the newest are shown


@dataclass
class Event:
    at: datetime
    stage: str      # generation / created / published / emission / transport / reception / operation / revision
    title: str      # the slip number or the period it concerns
    who: str = ""   # signer or enterprise
    details: dict = field(default_factory=dict)
    entries: list[EntryCheck] = field(default_factory=list)
    slip_id: int | None = None


@dataclass(frozen=True)
class EntryCheck:
    entry: LedgerEntry
    intact: bool  # hash recomputed from the stored content matches, and it links to its predecessor


def check_entries(ids: list[int]) -> list[EntryCheck]:
    entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(ids or [-1]))
                                      .order_by(LedgerEntry.id)))
    return [EntryCheck(e, _intact(e)) for e in entries]


def _intact(entry: LedgerEntry) -> bool:
    if seal(entry.prev_hash, entry_fields(entry)) != (entry.canonical, entry.hash):
        return False
    if entry.seq == 1:
        return True
    previous = db.session.scalar(select(LedgerEntry.hash).where(LedgerEntry.enterprise_id == entry.enterprise_id,
                                                                LedgerEntry.seq == entry.seq - 1))
    return previous == entry.prev_hash


def slip_events(slip: TransferSlip) -> list[Event]:
    events = [Event(slip.created_at, "created", slip.number, details={"planned_kg": slip.planned_kg}, slip_id=slip.id)]
    if slip.published_at:
        events.append(Event(slip.published_at, "published", slip.number, slip_id=slip.id))
    for signature in slip.signatures:
        events.append(Event(signature.signed_at, signature.act.value, slip.number,
                            f"{signature.signer_name} · {signature.enterprise.name}", dict(signature.section),
                            check_entries(signature.ledger_entry_ids), slip.id))
    for revision in slip.revisions:
        events.append(Event(revision.requested_at, "revision", slip.number,
                            details={"cancel": revision.cancel, "changes": revision.changes, "reason": revision.reason,
                                     "status": revision.status.value, "note": revision.decision_note},
                            entries=check_entries(revision.ledger_entry_ids), slip_id=slip.id))
    return events


def _sorted(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.at)


def of_slip(actor: User, slip_id: int) -> list[Event]:
    return _sorted(slip_events(get_slip(actor, slip_id)))


def _of_slips(actor: User, *where) -> list[Event]:
    slips = db.session.scalars(select(TransferSlip).where(visible(actor), *where)
                               .order_by(TransferSlip.id.desc()).limit(MAX_SLIPS))
    return [event for slip in slips for event in slip_events(slip)]


def of_agreement(actor: User, agreement_id: int) -> list[Event]:
    agreement = get_agreement(actor, agreement_id)
    return _sorted(_of_slips(actor, TransferSlip.agreement_id == agreement.id))


def of_enterprise(actor: User, enterprise_id: int) -> list[Event]:
    require_enterprise_reader(actor, enterprise_id)
    return _sorted(_of_slips(actor, (TransferSlip.producer_id == enterprise_id)
                             | (TransferSlip.receiver_id == enterprise_id)))


def of_stream(actor: User, stream_id: int) -> list[Event]:
    """The stream's monthly generation from its ledger, then every slip that carried it away."""
    stream = db.session.get(WasteStream, stream_id)
    if stream is None:
        raise NotFound(_("No such waste stream."))
    require_enterprise_reader(actor, stream.enterprise_id)
    month = func.min(LedgerEntry.period_date)
    rows = db.session.execute(
        select(month, func.sum(LedgerEntry.quantity_kg), func.count())
        .where(LedgerEntry.stream_id == stream.id, LedgerEntry.kind == EntryKind.GENERATION)
        .group_by(func.extract("year", LedgerEntry.period_date), func.extract("month", LedgerEntry.period_date)))
    generated = [Event(_start_of(first_day), "generation", first_day.strftime("%Y-%m"), stream.enterprise.name,
                       {"generated_kg": int(kg), "entries": count}) for first_day, kg, count in rows]
    return _sorted(generated + _of_slips(actor, TransferSlip.stream_id == stream.id))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)
