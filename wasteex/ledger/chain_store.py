"""Appending to and verifying an enterprise's hash chain in the database.

The append takes the chain row with ``UPDATE … SET seq = seq + 1 … RETURNING``:
on PostgreSQL that row lock serialises appends of one enterprise until commit
(others wait, then see the committed head); on SQLite the write lock does.
Different enterprises never wait for each other.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timezone

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from wasteex.extensions import db
from wasteex.ledger.chain import GENESIS, ChainLink, ChainReport, canonical_text, seal, verify_chain
from wasteex.ledger.models import LedgerChain, LedgerEntry

HASHED_COLUMNS = (
    "enterprise_id", "seq", "kind", "stream_id", "sw_code", "period_date", "quantity_kg", "from_prior_storage",
    "facility_id", "route_id", "handler", "counterparty_name", "counterparty_credit_code", "carrier_name",
    "plate_number", "contract_number", "product", "reference", "source", "corrects_id", "reason",
    "recorded_by_id", "recorded_at",
)


def entry_fields(entry) -> dict[str, object]:
    """The hashed content of an entry (an ORM object or a table row), from its live values."""
    values = {name: getattr(entry, name) for name in HASHED_COLUMNS}
    values["recorded_at"] = values["recorded_at"].astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    return values


def _advance(enterprise_id: int) -> tuple[int, str]:
    stmt = (update(LedgerChain).where(LedgerChain.enterprise_id == enterprise_id)
            .values(seq=LedgerChain.seq + 1)
            .returning(LedgerChain.seq, LedgerChain.head_hash)
            .execution_options(synchronize_session=False))
    row = db.session.execute(stmt).first()
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(LedgerChain(enterprise_id=enterprise_id, seq=0, head_hash=GENESIS))
        except IntegrityError:
            pass  # another transaction created it first; the update below waits for it
        row = db.session.execute(stmt).first()
    return row.seq, row.head_hash


def append(entry: LedgerEntry) -> LedgerEntry:
    """Give ``entry`` its place in the chain, hash it and add it to the session."""
    entry.seq, entry.prev_hash = _advance(entry.enterprise_id)
    entry.canonical, entry.hash = seal(entry.prev_hash, entry_fields(entry))
    db.session.add(entry)
    db.session.execute(update(LedgerChain).where(LedgerChain.enterprise_id == entry.enterprise_id)
                       .values(head_hash=entry.hash).execution_options(synchronize_session=False))
    db.session.flush()
    return entry


def head(enterprise_id: int) -> LedgerChain | None:
    return db.session.get(LedgerChain, enterprise_id)


def _links(enterprise_id: int, batch: int = 5000) -> Iterator[ChainLink]:
    """Plain rows, streamed: no ORM objects, so a million entries stay cheap."""
    table = LedgerEntry.__table__
    stmt = (select(table).where(table.c.enterprise_id == enterprise_id)
            .order_by(table.c.seq).execution_options(yield_per=batch))
    for row in db.session.execute(stmt):
        yield ChainLink(row.id, row.seq, row.prev_hash, row.hash, row.canonical,
                        canonical_text(entry_fields(row)))


def verify_enterprise(enterprise_id: int) -> ChainReport:
    """Walk one chain; the stored head must match where the walk ends (catches tail removal)."""
    chain = head(enterprise_id)
    expected = chain.head_hash if chain is not None else GENESIS
    return verify_chain(_links(enterprise_id), expected_head=expected)


def chained_enterprises() -> list[int]:
    stored = set(db.session.scalars(select(LedgerChain.enterprise_id)))
    with_entries = set(db.session.scalars(select(LedgerEntry.enterprise_id).distinct()))
    return sorted(stored | with_entries)
