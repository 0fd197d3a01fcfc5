"""A city-wide matcher run, stored with the market it saw and what it found.

The snapshot is the run's input exactly as the matcher read it (the
``match-file`` JSON, with database ids), so a planner can replay a run with
``flask match-file`` and a regulator can see why a proposal was made even
after the listings changed. Totals are integers (kilograms, kilogram-metres).
"""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, created_at, intpk, str_enum
from wasteex.extensions import db


class RunStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        return self in (RunStatus.QUEUED, RunStatus.RUNNING)


class MatchRun(db.Model):
    __tablename__ = "match_run"
    __table_args__ = (CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),)

    id: Mapped[intpk]
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.QUEUED, index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Yuan per tonne-km for the transport cost shown in explanations (not part of the objective).
    yuan_per_tkm: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(String(40), default="")
    job_id: Mapped[str | None] = mapped_column(String(64))
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    offers: Mapped[int] = mapped_column(default=0)
    demands: Mapped[int] = mapped_column(default=0)
    matched_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_kg_m: Mapped[int] = mapped_column(BigInteger, default=0)  # tonne-km × 10⁶
    unmatched_offer_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    unmet_demand_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    optimal: Mapped[bool | None]
    seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    started_by: Mapped["User | None"] = relationship()  # noqa: F821
    proposals: Mapped[list["Proposal"]] = relationship(  # noqa: F821
        back_populates="run", order_by="Proposal.id")

    @property
    def tonne_km(self) -> Decimal:
        return Decimal(self.cost_kg_m) / 1_000_000
