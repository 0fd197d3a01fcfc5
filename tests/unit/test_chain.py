"""Unit tests for the ledger hash chain (pure, no app)."""

import dataclasses
import datetime as dt
import enum
import hashlib
from decimal import Decimal

import pytest

from wasteex.ledger.chain import (
    GENESIS,
    BreakReason,
    ChainLink,
    canonical_text,
    entry_hash,
    seal,
    verify_chain,
)


def build(n, chain="E1"):
    links, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = {"chain": chain, "seq": seq, "kind": "generation", "amount_kg": 1000 * seq}
        canonical, h = seal(prev, fields)
        links.append(ChainLink(id=100 + seq, seq=seq, prev_hash=prev, hash=h, canonical=canonical))
        prev = h
    return links


def replace(link, **kw):
    return dataclasses.replace(link, **kw)


# ----------------------------------------------------------------- canonical text and hash


class Kind(enum.Enum):
    OUT = "entrusted_out"


def test_canonical_text_is_compact_sorted_and_typed():
    text = canonical_text(
        {
            "z": None,
            "名称": "粉煤灰",
            "amount_kg": 12345,
            "moisture": Decimal("12.50"),
            "big": Decimal("1E+3"),
            "day": dt.date(2025, 3, 1),
            "at": dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.timezone.utc),
            "kind": Kind.OUT,
            "ok": True,
            "lines": [{"b": 1, "a": 2}],
        }
    )
    assert text == (
        '{"amount_kg":12345,"at":"2025-03-01T08:30:00+00:00","big":"1000","day":"2025-03-01",'
        '"kind":"entrusted_out","lines":[{"a":2,"b":1}],"moisture":"12.50","ok":true,'
        '"z":null,"名称":"粉煤灰"}'
    )


def test_canonical_text_is_independent_of_insertion_order():
    assert canonical_text({"a": 1, "b": 2}) == canonical_text({"b": 2, "a": 1})


@pytest.mark.parametrize(
    "bad, exc",
    [
        ({"x": 1.5}, TypeError),
        ({"x": Decimal("NaN")}, ValueError),
        ({"x": Decimal("Infinity")}, ValueError),
        ({"x": object()}, TypeError),
        ({1: "int key"}, TypeError),
    ],
)
def test_canonical_text_refuses_ambiguous_values(bad, exc):
    with pytest.raises(exc):
        canonical_text(bad)


def test_entry_hash_rule():
    expected = hashlib.sha256(f"{GENESIS}\n{{}}".encode()).hexdigest()
    assert entry_hash(GENESIS, "{}") == expected
    assert len(expected) == 64
    # UTF-8, not ASCII escapes, is what gets hashed
    text = '{"n":"渣"}'
    assert entry_hash(GENESIS, text) == hashlib.sha256(f"{GENESIS}\n{text}".encode()).hexdigest()


# ----------------------------------------------------------------- verification


def test_intact_chain_verifies():
    links = build(5)
    report = verify_chain(links)
    assert report.ok and report.count == 5 and report.broken is None
    assert report.head_hash == links[-1].hash
    assert verify_chain(links, expected_head=links[-1].hash).ok


def test_empty_chain_is_ok_with_genesis_head():
    report = verify_chain([])
    assert report.ok and report.count == 0 and report.head_hash == GENESIS


def first_break(links, **kw):
    report = verify_chain(links, **kw)
    assert not report.ok
    return report.broken.id, report.broken.seq, report.broken.reason


def test_altered_canonical_detected():
    links = build(5)
    links[2] = replace(links[2], canonical=links[2].canonical.replace("3000", "300"))
    assert first_break(links) == (103, 3, BreakReason.HASH)


def test_altered_live_field_detected_via_recomputed_canonical():
    links = build(5)
    tampered = canonical_text({"chain": "E1", "seq": 3, "kind": "generation", "amount_kg": 1})
    links[2] = replace(links[2], recomputed_canonical=tampered)
    assert first_break(links) == (103, 3, BreakReason.FIELDS)
    links[2] = replace(links[2], recomputed_canonical=links[2].canonical)
    assert verify_chain(links).ok


def test_altered_hash_detected():
    links = build(5)
    links[1] = replace(links[1], hash="f" * 64)
    assert first_break(links) == (102, 2, BreakReason.HASH)


def test_altered_content_rehashed_breaks_next_link():
    links = build(5)
    fields = {"chain": "E1", "seq": 2, "kind": "generation", "amount_kg": 1}
    canonical, h = seal(links[1].prev_hash, fields)
    links[1] = replace(links[1], canonical=canonical, hash=h)
    report = verify_chain(links)
    assert (report.broken.seq, report.broken.reason) == (3, BreakReason.PREV_HASH)
    assert report.count == 2  # entries 1-2 verified before the break


def test_removed_entry_detected_as_gap():
    links = build(5)
    del links[2]
    assert first_break(links) == (104, 4, BreakReason.SEQ_GAP)


def test_removed_entry_with_renumbering_detected():
    links = build(5)
    del links[2]
    links = links[:2] + [replace(link, seq=link.seq - 1) for link in links[2:]]
    assert first_break(links) == (104, 3, BreakReason.PREV_HASH)


def test_reordered_entries_detected():
    links = build(5)
    links[2], links[3] = links[3], links[2]  # iterated in stored order: seq 4 before 3
    assert first_break(links) == (104, 4, BreakReason.SEQ_GAP)
    swapped = build(5)  # seq numbers swapped too, so iteration order looks right
    swapped[2], swapped[3] = replace(swapped[3], seq=3), replace(swapped[2], seq=4)
    assert first_break(swapped) == (104, 3, BreakReason.PREV_HASH)


def test_duplicate_seq_detected():
    links = build(3)
    links.insert(2, links[1])
    assert first_break(links) == (102, 2, BreakReason.SEQ_ORDER)


def test_inserted_entry_detected():
    links = build(5)
    canonical, h = seal(links[1].hash, {"chain": "E1", "seq": 3, "kind": "forged"})
    forged = ChainLink(id=999, seq=3, prev_hash=links[1].hash, hash=h, canonical=canonical)
    links = links[:2] + [forged] + [replace(link, seq=link.seq + 1) for link in links[2:]]
    assert first_break(links) == (103, 4, BreakReason.PREV_HASH)


def test_prev_hash_mismatch_on_first_entry():
    links = build(2)
    links[0] = replace(links[0], prev_hash="1" * 64)
    assert first_break(links) == (101, 1, BreakReason.PREV_HASH)


def rehash_all(links):
    out, prev = [], GENESIS
    for link in links:
        h = entry_hash(prev, link.canonical)
        out.append(replace(link, prev_hash=prev, hash=h))
        prev = h
    return out


def test_truncation_and_wholesale_rehash_caught_by_expected_head():
    links = build(5)
    head = links[-1].hash
    assert verify_chain(links[:4]).ok  # consistent on its own ...
    assert first_break(links[:4], expected_head=head) == (104, 4, BreakReason.HEAD)
    forged = rehash_all(links[:2] + [replace(links[2], canonical='{"forged":1}')] + links[3:])
    assert verify_chain(forged).ok  # ... a superuser could re-hash everything
    assert first_break(forged, expected_head=head)[2] == BreakReason.HEAD


def test_resume_from_checkpoint():
    links = build(6)
    report = verify_chain(links[3:], start_hash=links[2].hash, start_seq=4)
    assert report.ok and report.count == 3 and report.head_hash == links[-1].hash


def test_accepts_plain_objects_with_the_attributes():
    class Row:  # an ORM row without recomputed_canonical
        def __init__(self, link):
            self.id, self.seq, self.prev_hash = link.id, link.seq, link.prev_hash
            self.hash, self.canonical = link.hash, link.canonical

    assert verify_chain(Row(link) for link in build(3)).ok


def test_streams_a_long_chain_from_a_generator():
    def gen(n):
        prev = GENESIS
        for seq in range(1, n + 1):
            canonical = f'{{"seq":{seq}}}'
            h = entry_hash(prev, canonical)
            yield ChainLink(seq, seq, prev, h, canonical)
            prev = h

    report = verify_chain(gen(200_000))
    assert report.ok and report.count == 200_000
