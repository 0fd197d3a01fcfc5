"""Tamper-evident hash chain for ledger entries — pure, standard library only.

Why: the ledger (MEE 2021 No. 82) must be kept for at least five years and is
evidence for a regulator. Each enterprise has one chain; entry ``n`` stores the
hash of entry ``n-1`` (``prev_hash``), so editing, deleting, inserting or
reordering any past entry breaks every link after it.

Hashing rule (version 1)::

    hash = sha256_hex( prev_hash + "\\n" + canonical ).lower()   # UTF-8 bytes

The first entry uses ``GENESIS`` as ``prev_hash``. ``canonical`` is the exact
text stored in the row and hashed as stored — never re-serialised from objects,
whose formatting may drift between library versions. ``canonical_text`` is the
single place that produces it. Include ``seq`` and the chain key (enterprise id)
in the fields so an entry cannot be passed off under another position or chain.

Limits (say so on exports): a chain proves internal consistency only. Someone
who can rewrite the whole table can re-hash it; truncating the tail leaves a
consistent shorter chain. Both are caught by comparing with a head hash
published earlier (slips, exports) — pass it as ``expected_head``.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

__all__ = [
    "GENESIS",
    "BreakReason",
    "BrokenLink",
    "ChainLink",
    "ChainReport",
    "LinkLike",
    "canonical_text",
    "entry_hash",
    "seal",
    "verify_chain",
]

GENESIS = "0" * 64


# --------------------------------------------------------------------------- canonical text


def _plain(value: object) -> object:
    """Turn a value into JSON-native data with one spelling per meaning."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # A float's decimal spelling is not a contract across languages and
        # versions, and quantities are int kg or Decimal (STYLE.md §8).
        raise TypeError("floats are not allowed in ledger fields; use int kg or Decimal")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"non-finite Decimal {value} cannot be hashed")
        return format(value, "f")  # fixed-point, never exponent form
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date subclass
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    raise TypeError(f"cannot put {type(value).__name__} into canonical ledger text")


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"ledger field names must be str, got {key!r}")
    return key


def canonical_text(fields: Mapping[str, object]) -> str:
    """Serialise ledger fields to the one canonical JSON text that gets hashed.

    Sorted keys, no whitespace, UTF-8 kept as is (Chinese names stay readable),
    Decimal as fixed-point string (its scale is kept: quantize before calling),
    date/datetime/time as ISO 8601 (store datetimes in UTC), enum by value,
    None as null. Floats, NaN and unknown types are refused, not guessed.
    """
    if not isinstance(fields, Mapping):
        raise TypeError("canonical_text expects a mapping of field name to value")
    return json.dumps(
        _plain(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(prev_hash: str, canonical: str) -> str:
    """Hash of one entry: sha256 over ``prev_hash + "\\n" + canonical`` (UTF-8), hex."""
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode("utf-8")).hexdigest()


def seal(prev_hash: str, fields: Mapping[str, object]) -> tuple[str, str]:
    """Return ``(canonical, hash)`` for a new entry appended after ``prev_hash``."""
    canonical = canonical_text(fields)
    return canonical, entry_hash(prev_hash, canonical)


# --------------------------------------------------------------------------- verification


class LinkLike(Protocol):
    """What ``verify_chain`` reads; ORM rows with these attributes work too."""

    id: object
    seq: int
    prev_hash: str
    hash: str
    canonical: str


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One stored entry as the verifier sees it.

    ``recomputed_canonical`` is ``canonical_text`` of the live column values,
    if the caller has them: it catches a column edited without touching the
    stored canonical text (which the hash alone cannot see).
    """

    id: object
    seq: int
    prev_hash: str
    hash: str
    canonical: str
    recomputed_canonical: str | None = None


class BreakReason(enum.StrEnum):
    SEQ_GAP = "seq_gap"  # an entry is missing (removed)
    SEQ_ORDER = "seq_order"  # seq repeats or goes backwards (reordered / duplicated)
    PREV_HASH = "prev_hash_mismatch"  # does not point at its predecessor (inserted / reordered)
    FIELDS = "fields_altered"  # live columns differ from the stored canonical text
    HASH = "hash_mismatch"  # stored hash does not match prev_hash + canonical
    HEAD = "head_mismatch"  # chain ends somewhere other than the published head


@dataclass(frozen=True, slots=True)
class BrokenLink:
    id: object
    seq: int | None
    reason: BreakReason
    message: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """``count``: entries checked (all of them when ok); ``head_hash``: hash of
    the last entry that verified (``GENESIS``-or-start for an empty chain)."""

    ok: bool
    count: int
    head_hash: str
    broken: BrokenLink | None = None


def _fault(link: LinkLike, expected_seq: int, prev: str) -> tuple[BreakReason, str] | None:
    """Cheapest checks first; the hash is computed only for a well-placed link."""
    if link.seq != expected_seq:
        reason = BreakReason.SEQ_GAP if link.seq > expected_seq else BreakReason.SEQ_ORDER
        return reason, f"expected seq {expected_seq}, found {link.seq}"
    if link.prev_hash != prev:
        return BreakReason.PREV_HASH, "prev_hash does not match the previous entry's hash"
    recomputed = getattr(link, "recomputed_canonical", None)
    if recomputed is not None and recomputed != link.canonical:
        return BreakReason.FIELDS, "field values differ from the hashed canonical text"
    if entry_hash(prev, link.canonical) != link.hash:
        return BreakReason.HASH, "stored hash does not match the entry's content"
    return None


def verify_chain(
    entries: Iterable[LinkLike],
    *,
    expected_head: str | None = None,
    start_hash: str = GENESIS,
    start_seq: int = 1,
) -> ChainReport:
    """Walk entries in stored seq order and report the first broken link.

    Streams: holds one previous hash, so a server-side cursor over millions of
    rows runs in constant memory. ``start_hash``/``start_seq`` resume from a
    verified checkpoint; ``expected_head`` also catches tail truncation and a
    wholesale re-hash.
    """
    prev, expected_seq, count, last = start_hash, start_seq, 0, None
    for link in entries:
        fault = _fault(link, expected_seq, prev)
        if fault is not None:
            return ChainReport(False, count, prev, BrokenLink(link.id, link.seq, *fault))
        prev, expected_seq, count, last = link.hash, expected_seq + 1, count + 1, link
    if expected_head is not None and expected_head != prev:
        where = (last.id, last.seq) if last is not None else (None, None)
        message = "chain head differs from the expected head hash"
        return ChainReport(False, count, prev, BrokenLink(*where, BreakReason.HEAD, message))
    return ChainReport(True, count, prev)
