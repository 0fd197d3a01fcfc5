"""When the outbox is sent: right after the commit that wrote it, never inside it.

``notify`` marks the session; when that session commits, the deliveries are
handed on — to an RQ job when ``REDIS_URL`` is set (``make worker``), otherwise
to the end of the current request, after its response has gone to the
browser (``call_on_close``). A rollback forgets the mark with the rows.
Outside a request without Redis (a CLI command, the matcher's job) nothing is
sent at once. Retries, and that case, are the work of
``flask --app wasteex notifications deliver``, run every minute by cron or a
systemd timer, as ``match-run`` is.
"""
from __future__ import annotations

import logging
from functools import partial

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from wasteex.extensions import db

log = logging.getLogger(__name__)
PENDING = "wasteex.outbox_pending"
QUEUE = "wasteex"  # the queue `make worker` serves
JOB_TIMEOUT = 900  # seconds


def mark_pending(session) -> None:
    """Say that this unit of work wrote deliveries (called by ``notify``)."""
    session.info[PENDING] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(PENDING, False):
        dispatch()


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def dispatch() -> None:
    """Hand committed deliveries on. Never raises: what is not sent now, the periodic command sends."""
    url = current_app.config.get("REDIS_URL")
    if url:
        try:
            from redis import Redis
            from rq import Queue

            Queue(QUEUE, connection=Redis.from_url(url)).enqueue(perform, job_timeout=JOB_TIMEOUT, failure_ttl=86400)
        except Exception:  # noqa: BLE001 - Redis down must not break the request that already committed
            log.exception("could not queue the notification outbox; the periodic command will send it")
    elif has_request_context():
        g.wasteex_outbox = True


def _send_after_response(response):
    if g.pop("wasteex_outbox", False):
        response.call_on_close(partial(_deliver_now, current_app._get_current_object()))
    return response


def _deliver_now(app: Flask) -> None:
    from wasteex.notifications.delivery import deliver_due

    with app.app_context():
        try:
            deliver_due()
        except Exception:  # noqa: BLE001 - the response is gone; log, the periodic command retries
            db.session.rollback()
            log.exception("sending the notification outbox after a request failed")


def perform() -> None:
    """The RQ entry point: a fresh app in the worker process sends what is due."""
    from wasteex import create_app
    from wasteex.notifications.delivery import deliver_due

    with create_app().app_context():
        deliver_due()


def init_app(app: Flask) -> None:
    app.after_request(_send_after_response)
    # db.session is one scoped session for every app in the process: listen once.
    for name, handler in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not event.contains(db.session, name, handler):
            event.listen(db.session, name, handler)
