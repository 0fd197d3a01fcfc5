"""Ledger appends racing in one enterprise's chain, on PostgreSQL: 16 threads × 100 entries.

Each append takes the chain's next position with ``UPDATE … RETURNING`` (a row lock), so the
chain must come out whole: 1,600 entries, positions 1…1600 without gap or repeat, verifying
from genesis to the stored head.
"""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import is_postgres
from tests.factories import make_facility, make_stream
from tests.services.test_agreement_races import wide_app  # noqa: F401 - fixture
from wasteex.accounts.models import User
from wasteex.enterprises.models import FacilityKind
from wasteex.extensions import db
from wasteex.ledger import chain_store
from wasteex.ledger.models import LedgerEntry
from wasteex.ledger.service import EntryInput, record_entry

pytestmark = pytest.mark.skipif(not is_postgres(), reason="row-level races need PostgreSQL")
THREADS, EACH = 16, 100


def test_concurrent_appends_keep_one_unbroken_chain(wide_app, world):
    w = world
    make_facility(w.site_a, "CS-01", FacilityKind.GENERATION)
    stream = make_stream(w.a, w.site_a, "SW02")
    ids = (w.alice.id, w.a.id, stream.id)
    barrier, errors = threading.Barrier(THREADS), []

    def writer() -> None:
        with wide_app.app_context():
            actor = db.session.get(User, ids[0])
            barrier.wait(timeout=60)
            try:
                for _ in range(EACH):
                    record_entry(actor, ids[1], EntryInput(kind="generation", period_date=date(2025, 3, 15),
                                                           tonnes="1", handler="张三", stream_id=ids[2],
                                                           facility_code="CS-01"))
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - collected; the test fails on any
                errors.append(repr(exc))
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    db.session.expire_all()
    seqs = db.session.scalars(select(LedgerEntry.seq).where(LedgerEntry.enterprise_id == w.a.id)
                              .order_by(LedgerEntry.seq)).all()
    assert seqs == list(range(1, THREADS * EACH + 1))
    report = chain_store.verify_enterprise(w.a.id)
    assert report.ok and report.count == THREADS * EACH
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == THREADS * EACH
