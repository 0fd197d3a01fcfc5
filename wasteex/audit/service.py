"""Recording audit events (flushes with the caller's unit of work, never commits)."""
from __future__ import annotations

from typing import Any

from wasteex.audit.models import AuditEvent
from wasteex.extensions import db


def record(actor, action: str, obj, *, enterprise_id: int | None = None, **data: Any) -> AuditEvent:
    """Add one event for ``action`` on ``obj`` by ``actor`` (a User or None for the system)."""
    if getattr(obj, "id", 0) is None:
        db.session.flush()  # the object needs its id before the event can name it
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        enterprise_id=enterprise_id,
        action=action,
        object_type=type(obj).__tablename__,
        object_id=getattr(obj, "id", None),
        data={k: _plain(v) for k, v in data.items()},
    )
    db.session.add(event)
    return event


def _plain(value: Any) -> Any:
    if hasattr(value, "value"):  # enums
        return value.value
    if isinstance(value, (str, int, bool, type(None))):
        return value
    return str(value)
