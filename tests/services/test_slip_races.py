"""Concurrent signatures of the same section on PostgreSQL: exactly one wins, the ledger is whole.

Sixteen receivers' clerks sign the reception of one slip at the same instant
(one thread and session each). Exactly one signature may be stored, the
receiver's ledger gets one "received" line, the producer's in-transit total
is settled once, and both chains verify.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import is_postgres
from tests.services.test_agreement_races import wide_app  # noqa: F401 - fixture
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from tests.services.transfer_world import TODAY, emit, fresh, published_slip, shipping  # noqa: F401
from wasteex.accounts.models import User
from wasteex.errors import DomainError
from wasteex.extensions import db
from wasteex.ledger import chain_store
from wasteex.ledger.models import LedgerEntry
from wasteex.transfers import signing
from wasteex.transfers.models import TransferSignature

pytestmark = pytest.mark.skipif(not is_postgres(), reason="row-level races need PostgreSQL")
CLIENTS = 16


def test_one_of_sixteen_simultaneous_receptions_wins(shipping, wide_app):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    slip_id, carol_id, receiver_id, producer_id = slip.id, w.carol.id, w.c.id, w.a.id
    db.session.commit()
    barrier, outcomes, lock = threading.Barrier(CLIENTS), [], threading.Lock()

    def clerk(weight: str) -> None:
        with wide_app.app_context():
            actor = db.session.get(User, carol_id)
            barrier.wait(timeout=60)
            try:
                signing.sign(actor, slip_id, "reception", {"received_t": weight, "received_on": TODAY,
                                                            "handler": "磅房"}, evidence=fresh(actor))
                db.session.commit()
                outcome = "won"
            except DomainError:
                db.session.rollback()
                outcome = "lost"
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                outcome = f"error: {error!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=clerk, args=(f"{29 + i / 10:.1f}",)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(outcomes) == ["lost"] * (CLIENTS - 1) + ["won"], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(TransferSignature)
                             .where(TransferSignature.slip_id == slip_id, TransferSignature.act == "reception")) == 1
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.enterprise_id == receiver_id)) == 1
    for enterprise_id in (receiver_id, producer_id):
        assert chain_store.verify_enterprise(enterprise_id).ok
