"""Appending to and verifying an enterprise's hash chain in the database.

The append takes the chain row with ``UPDATE … SET seq = seq + 1 … RETURNING``:
on PostgreSQL that row lock serialises appends of one enterprise until commit
(others wait, then see the committed head); on SQLite the write lock does.
Different enterprises never wait for each other.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import timezone

from flask import Flask, current_app
from sqlalchemy import String, select, type_coerce, update
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


def _utc_text(moment) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat()


def entry_fields(entry) -> dict[str, object]:
    """The hashed content of an entry (an ORM object or a table row), from its live values."""
    values = {name: getattr(entry, name) for name in HASHED_COLUMNS}
    values["recorded_at"] = _utc_text(values["recorded_at"])
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


_LINK_COLUMNS = ("id", "seq", "prev_hash", "hash", "canonical")
# Read as stored, without SQLAlchemy's conversion: canonical_text spells an enum by its
# value and a date in ISO form, which is what the column holds. A value written behind
# the application's back (an unknown kind, an impossible date on SQLite) then shows up
# as fields_altered on its entry instead of an exception that stops the walk.
_AS_STORED = frozenset({"kind", "source", "period_date"})


def _links(enterprise_id: int, batch: int = 5000) -> Iterator[ChainLink]:
    """Plain tuples, streamed and read by position: no ORM objects and no per-name
    attribute lookups, so a million entries stay cheap."""
    table = LedgerEntry.__table__
    columns = [table.c[name] for name in _LINK_COLUMNS]
    columns += [type_coerce(table.c[name], String) if name in _AS_STORED else table.c[name]
                for name in HASHED_COLUMNS]
    stmt = (select(*columns).where(table.c.enterprise_id == enterprise_id)
            .order_by(table.c.seq).execution_options(yield_per=batch))
    first = len(_LINK_COLUMNS)
    for row in db.session.execute(stmt):
        values = dict(zip(HASHED_COLUMNS, row[first:]))
        values["recorded_at"] = _utc_text(values["recorded_at"])
        yield ChainLink(*row[:first], canonical_text(values))


def verify_enterprise(enterprise_id: int) -> ChainReport:
    """Walk one chain; the stored head must match where the walk ends (catches tail removal)."""
    chain = head(enterprise_id)
    expected = chain.head_hash if chain is not None else GENESIS
    return verify_chain(_links(enterprise_id), expected_head=expected)


def verify_all(enterprise_ids: Sequence[int], workers: int = 1) -> Iterator[tuple[int, ChainReport]]:
    """``(enterprise id, report)`` in the given order.

    Chains are independent, so with ``workers`` > 1 they are walked in that many
    forked processes at once (each opens its own connections); hashing is
    CPU-bound, so this scales with the cores. For the CLI, not a web request.
    """
    if workers <= 1 or len(enterprise_ids) < 2:
        for enterprise_id in enterprise_ids:
            yield enterprise_id, verify_enterprise(enterprise_id)
        return
    app = current_app._get_current_object()
    # Workers open their own sessions and pool; the caller's session is left as it is.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(app,)) as pool:
        yield from zip(enterprise_ids, pool.map(_verify_in_worker, enterprise_ids))


_worker_app: Flask | None = None


def _start_worker(app: Flask) -> None:
    global _worker_app
    _worker_app = app
    with app.app_context():
        db.engine.dispose(close=False)  # the parent's pooled connections must not be shared


def _verify_in_worker(enterprise_id: int) -> ChainReport:
    with _worker_app.app_context():
        try:
            return verify_enterprise(enterprise_id)
        finally:
            db.session.remove()


def chained_enterprises() -> list[int]:
    stored = set(db.session.scalars(select(LedgerChain.enterprise_id)))
    with_entries = set(db.session.scalars(select(LedgerEntry.enterprise_id).distinct()))
    return sorted(stored | with_entries)
