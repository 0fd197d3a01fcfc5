"""Killing a process in the middle of a signature or a matcher run leaves nothing half-written (PostgreSQL).

The test holds a table lock that the operation needs for its ledger lines (or its
proposals), waits until PostgreSQL shows the operation blocked on it — its slip update
and signature row already written in its transaction — and then SIGKILLs the gunicorn
worker (or the RQ work-horse). The transaction never commits: afterwards the slip is
exactly as before, no ledger line or proposal exists, the chains verify, and the same
signature then succeeds.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, func, select, text

from tests.api.calls import bearer
from tests.conftest import is_postgres
from tests.factories import PASSWORD
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from tests.services.transfer_world import TODAY, emit, published_slip, shipping  # noqa: F401
from wasteex.agreements.models import Proposal
from wasteex.extensions import db
from wasteex.ledger import chain_store
from wasteex.ledger.models import LedgerEntry
from wasteex.matching import jobs, runs
from wasteex.matching.models import MatchRun, RunStatus
from wasteex.transfers.models import TransferSignature
from wasteex.transfers.states import SlipStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
import serving  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/13"
pytestmark = pytest.mark.skipif(not is_postgres(), reason="crash safety is shown on PostgreSQL")


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(p) for p in listing.read().split()]


def env_for(database_url: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTEEX_")}
    env.update(WASTEEX_ENV="development", WASTEEX_DATABASE_URL=database_url, WASTEEX_INSTANCE_PATH=str(workdir),
               WASTEEX_REDIS_URL=REDIS_URL, WASTEEX_SECRET_KEY="crash-test-secret-key-not-for-production")
    return env


def wait_blocked(database_url: str, needle: str, seconds: int = 60) -> None:
    """Until a session waits on a lock while running a statement containing ``needle``."""
    engine = create_engine(database_url)
    try:
        for _ in range(seconds * 10):
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                     "AND query ILIKE :q"), {"q": f"%{needle}%"}).scalar():
                    return
            time.sleep(0.1)
        raise AssertionError(f"nothing blocked on {needle!r}")
    finally:
        engine.dispose()


class TableLock:
    """``LOCK TABLE … IN EXCLUSIVE MODE`` in a transaction of its own: readers pass, writers wait."""

    def __init__(self, database_url: str, table: str):
        self.engine = create_engine(database_url)
        self.conn = self.engine.connect()
        self.conn.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()
        self.engine.dispose()


def test_a_worker_killed_mid_signature_leaves_the_slip_and_both_ledgers_untouched(shipping, database_url, tmp_path):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    headers = bearer(w.carol) | {"X-Reauth": PASSWORD, "Content-Type": "application/json"}
    body = (b'{"kind": "reception", "received_t": "30", "received_on": "%s", "handler": "\\u78c5\\u623f"}'
            % TODAY.encode())
    db.session.commit()
    port = serving.free_port()
    server = serving.start_gunicorn(env_for(database_url, tmp_path), tmp_path, port, workers=1)
    lock = None
    try:
        lock = TableLock(database_url, "ledger_entry")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/slips/{slip.id}/sign", data=body,
                                         headers=headers)
        outcome = {}
        sender = threading.Thread(target=lambda: outcome.update(result=_send(request)))
        sender.start()
        wait_blocked(database_url, "INSERT INTO ledger_entry")
        (worker,) = children(server.pid)
        os.kill(worker, signal.SIGKILL)
        sender.join(timeout=30)
        lock.release()
        lock = None
        time.sleep(1)  # PostgreSQL ends the orphaned session's transaction without a COMMIT

        db.session.expire_all()
        assert db.session.get(type(slip), slip.id).status is SlipStatus.EMITTED
        assert db.session.scalar(select(func.count()).select_from(TransferSignature).where(
            TransferSignature.slip_id == slip.id, TransferSignature.act == "reception")) == 0
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                 .where(LedgerEntry.enterprise_id == w.c.id)) == 0
        for enterprise_id in (w.a.id, w.c.id):
            assert chain_store.verify_enterprise(enterprise_id).ok
        serving.wait_until_up(f"http://127.0.0.1:{port}/healthz", server, tmp_path / "gunicorn.log")
        assert _send(request) == 200  # the master's new worker signs it, whole
    finally:
        if lock is not None:
            lock.release()
        serving.stop(server)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.enterprise_id == w.c.id)) == 1


def _send(request) -> int | str:
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:  # the connection died with the worker
        return type(error).__name__


def test_a_killed_matcher_run_writes_no_proposal_and_goes_stale(app, traded, database_url, tmp_path):
    w = traded
    redis.Redis.from_url(REDIS_URL).flushdb()
    app.config["REDIS_URL"] = REDIS_URL
    run = runs.start(w.admin)
    db.session.commit()
    lock = TableLock(database_url, "proposal")
    worker = serving.spawn([str(serving.APP_BIN / "rq"), "worker", "--url", REDIS_URL, "--burst", jobs.QUEUE],
                           env_for(database_url, tmp_path), tmp_path / "rq.log")
    try:
        jobs.dispatch(run)
        wait_blocked(database_url, "INSERT INTO proposal")
        for horse in children(worker.pid):
            os.kill(horse, signal.SIGKILL)
        lock.release()
        lock = None
        worker.wait(timeout=60)
    finally:
        if lock is not None:
            lock.release()
        serving.stop(worker)
    db.session.expire_all()
    run = db.session.get(MatchRun, run.id)
    assert run.status is RunStatus.RUNNING and run.matched_kg in (None, 0)  # its last committed progress
    assert db.session.scalar(select(func.count()).select_from(Proposal).where(Proposal.run_id == run.id)) == 0
    app.config["MATCH_RUN_STALE_SECONDS"] = 0
    assert runs.is_stale(run) and runs.active_run() is None  # a new run is no longer blocked
