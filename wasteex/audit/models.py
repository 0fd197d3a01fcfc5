"""Audit events, written by services in the same unit of work as the change."""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from wasteex.database import created_at, intpk
from wasteex.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[intpk]
    created_at: Mapped[created_at]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
