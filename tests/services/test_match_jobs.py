"""Matcher runs as RQ jobs on a real Redis: queued by the page, done by a worker, progress on the row."""
from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker

from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from wasteex.extensions import db
from wasteex.matching import jobs, runs
from wasteex.matching.models import MatchRun, RunStatus



@pytest.fixture
def redis_queue(rq_redis):
    return Queue(jobs.QUEUE, connection=rq_redis)


def test_a_run_is_queued_then_done_by_a_worker(traded, redis_queue):
    w = traded
    run = runs.start(w.regulator)
    db.session.commit()
    jobs.dispatch(run)
    assert run.status is RunStatus.QUEUED and run.job_id == f"match-run-{run.id}"
    assert redis_queue.job_ids == [run.job_id]
    db.session.remove()  # let the worker's app write

    SimpleWorker([redis_queue], connection=redis_queue.connection).work(burst=True)

    done = db.session.get(MatchRun, run.id)
    assert done.status is RunStatus.DONE and done.progress == 100 and len(done.proposals) == 1
    assert redis_queue.fetch_job(done.job_id).is_finished
