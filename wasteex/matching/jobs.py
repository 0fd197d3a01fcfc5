"""Matcher runs as background jobs: RQ on Redis when ``REDIS_URL`` is set, inline otherwise.

The job id is derived from the run id, so a run cannot be enqueued twice. The
worker builds its own app (``rq worker --url $WASTEEX_REDIS_URL wasteex``, see
``make worker``); progress lives on the run's row, which every web worker
reads, so the page's progress bar does not depend on where the job runs.
"""
from __future__ import annotations

from flask import current_app

from wasteex.extensions import db
from wasteex.matching import runs
from wasteex.matching.models import MatchRun, RunStatus

QUEUE = "wasteex"
JOB_TIMEOUT = 1800  # seconds: a city-wide run at 20k × 20k takes well under this


def dispatch(run: MatchRun) -> None:
    """Hand a committed, queued run to RQ, or execute it now when there is no Redis."""
    if not enqueue(run, perform, f"match-run-{run.id}"):
        runs.execute(run.id)


def enqueue(run, entry_point, job_id: str) -> bool:
    """Queue ``entry_point(run.id)`` on RQ under a deterministic ``job_id`` (a run is never queued
    twice) and record the job on the run; False when no Redis is configured (run it inline then)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return False
    from redis import Redis
    from rq import Queue

    Queue(QUEUE, connection=Redis.from_url(url)).enqueue(
        entry_point, run.id, job_id=job_id, job_timeout=JOB_TIMEOUT, failure_ttl=86400)
    run.job_id = job_id
    db.session.commit()
    return True


def perform(run_id: int) -> None:
    """The RQ entry point: a fresh app context in the worker process."""
    from wasteex import create_app

    with create_app().app_context():
        run = runs.execute(run_id)
        if run.status is RunStatus.FAILED:
            raise RuntimeError(f"matcher run {run_id} failed: {run.error}")  # RQ keeps it as a failed job
