"""Reading the regulators' dashboards from a PostgreSQL read replica, when one is configured.

With ``WASTEEX_REPLICA_DATABASE_URL`` set, a request marked with :func:`read_from_replica` (the
cockpit's pages and API: read-only, and the heaviest queries of the platform) sends its SELECT
statements to the replica; everything it writes — a flush, an UPDATE, a bearer token's last use —
still goes to the primary, as does every other request. Without the setting nothing changes.
The replica may lag the primary by the replication delay: fine for city-wide statistics, which is
why only the cockpit reads there (a slip being signed never does).
"""
from __future__ import annotations

from functools import wraps

from flask import g, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy.sql import Select

BIND = "replica"


def read_from_replica() -> None:
    """A ``before_request`` hook (after the sign-in check): this request's reads may use the replica."""
    g.read_from_replica = True


def replica_reads(view):
    """A view decorator doing the same, inside the authentication decorator (listed before it in a
    MethodView's ``decorators``), so that the caller is always authenticated against the primary."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        read_from_replica()
        return view(*args, **kwargs)
    return wrapper


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, choosing the replica for a marked request's SELECTs."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and isinstance(clause, Select) and not self._flushing and has_app_context()
                and g.get("read_from_replica")):
            from wasteex.extensions import db

            replica = db.engines.get(BIND)
            if replica is not None:
                return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
