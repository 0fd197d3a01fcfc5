"""Tables of the planner, the anomaly worklist and 以渣定产.

Two kinds of data live here, and who may write them differs:

* **business data** — ``UtilisationCapacity``: what a utiliser site can take
  per year, declared by that enterprise's admins (regulators never write it);
* **regulatory data** — planning scenarios and their runs, anomalies and
  their handling, the 以渣定产 sector keywords and thresholds: written by
  regulators (scenarios also by platform admins), always audited.

Quantities are integer kilograms, shares and factors exact ``Decimal``
fractions (0.8 = 80 %).
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, created_at, intpk, str120, str_enum, utcnow
from wasteex.extensions import db
from wasteex.matching.models import RunStatus


class UtilisationCapacity(db.Model):
    """A utiliser site's declared capacity: these SW codes, by this route, up to so many kg a year."""

    __tablename__ = "utilisation_capacity"
    __table_args__ = (
        CheckConstraint("kg_per_year > 0", name="kg_positive"),
        CheckConstraint("max_km > 0 AND max_km <= 1000", name="max_km_range"),
    )

    id: Mapped[intpk]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id"))
    sw_codes: Mapped[list[str]] = mapped_column(JSON)  # at least one; each fits the route
    kg_per_year: Mapped[int] = mapped_column(BigInteger)
    max_km: Mapped[int]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    created_at: Mapped[created_at]

    enterprise: Mapped["Enterprise"] = relationship()  # noqa: F821
    site: Mapped["Site"] = relationship()  # noqa: F821
    route: Mapped["Route"] = relationship()  # noqa: F821


class PlanningScenario(db.Model):
    """A what-if: hypothetical utilisers added to the city, producers taken out of it."""

    __tablename__ = "planning_scenario"

    id: Mapped[intpk]
    name: Mapped[str120]
    description: Mapped[str] = mapped_column(Text, default="")
    # [{"name", "lat", "lon", "sw_codes": [...], "kg_per_year", "max_km"}]: lat/lon as decimal strings
    utilisers: Mapped[list[dict]] = mapped_column(JSON, default=list)
    removed_enterprise_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    created_by: Mapped["User | None"] = relationship()  # noqa: F821
    runs: Mapped[list[PlanningRun]] = relationship(
        back_populates="scenario", cascade="all, delete-orphan", order_by="PlanningRun.id.desc()")

    @property
    def latest_done_run(self) -> PlanningRun | None:
        return next((run for run in self.runs if run.status is RunStatus.DONE), None)


class PlanningRun(db.Model):
    """One computation of the plan: the baseline (no scenario) or a scenario against the baseline.

    ``result`` is the whole snapshot (inputs summarised, figures per base and
    code, locations), so a saved run reads the same after the data changed.
    """

    __tablename__ = "planning_run"
    __table_args__ = (CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),)

    id: Mapped[intpk]
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("planning_scenario.id", ondelete="CASCADE"),
                                                    index=True)
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.QUEUED, index=True)
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(String(40), default="")
    job_id: Mapped[str | None] = mapped_column(String(64))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    result: Mapped[dict | None] = mapped_column(JSON)
    baseline_rate: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    attainable_rate: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    scenario: Mapped[PlanningScenario | None] = relationship(back_populates="runs")
    started_by: Mapped["User | None"] = relationship()  # noqa: F821


class AnomalyKind(enum.Enum):
    BALANCE = "balance"                        # 产生量 does not equal its destinations
    CHAIN = "chain"                            # the ledger hash chain does not verify
    MISSING_GENERATION = "missing_generation"  # declared in the inventory, nothing recorded for a month
    STORAGE_RISING = "storage_rising"          # stock grew 3 months or more in a row
    OVER_CAPACITY = "over_capacity"            # a utiliser received more than it declared it can take
    UNVERIFIED_TRADING = "unverified_trading"  # listings, proposals or agreements of an unverified enterprise
    SLIP = "slip"                              # a transfer slip overdue or with a discrepancy


class AnomalyStatus(enum.Enum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    CLOSED = "closed"


class Anomaly(db.Model):
    """One finding of the scan about one subject; ``subject_key`` makes re-scans idempotent."""

    __tablename__ = "anomaly"
    __table_args__ = (UniqueConstraint("kind", "subject_key"),)

    id: Mapped[intpk]
    kind: Mapped[AnomalyKind] = mapped_column(str_enum(AnomalyKind), index=True)
    subject_key: Mapped[str] = mapped_column(String(120))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    stream_id: Mapped[int | None] = mapped_column(ForeignKey("waste_stream.id", ondelete="SET NULL"))
    period: Mapped[str] = mapped_column(String(7), default="")  # "2025-03", "2025" or "" (no period)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[AnomalyStatus] = mapped_column(str_enum(AnomalyStatus), default=AnomalyStatus.OPEN, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[created_at]

    enterprise: Mapped["Enterprise"] = relationship()  # noqa: F821
    stream: Mapped["WasteStream | None"] = relationship()  # noqa: F821
    handled_by: Mapped["User | None"] = relationship()  # noqa: F821
    events: Mapped[list[AnomalyEvent]] = relationship(
        back_populates="anomaly", cascade="all, delete-orphan", order_by="AnomalyEvent.id")

    @property
    def period_year(self) -> int | None:
        return int(self.period[:4]) if self.period[:4].isdigit() else None

    @property
    def period_month(self) -> int | None:
        return int(self.period[5:7]) if self.period[5:7].isdigit() else None


class AnomalyEvent(db.Model):
    """A status change of an anomaly: by an inspector (with the note) or by the scan (``actor`` None)."""

    __tablename__ = "anomaly_event"

    id: Mapped[intpk]
    anomaly_id: Mapped[int] = mapped_column(ForeignKey("anomaly.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[AnomalyStatus | None] = mapped_column(str_enum(AnomalyStatus))
    to_status: Mapped[AnomalyStatus] = mapped_column(str_enum(AnomalyStatus))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    anomaly: Mapped[Anomaly] = relationship(back_populates="events")
    actor: Mapped["User | None"] = relationship()  # noqa: F821


class PilotSector(enum.Enum):
    """The sectors of the 以渣定产 pilot named by the city plan."""

    COAL = "coal"
    COKING = "coking"
    METALLURGY = "metallurgy"


class QuotaSectorKeyword(db.Model):
    """An enterprise whose industry contains ``keyword`` is in ``sector`` (the longest keyword wins)."""

    __tablename__ = "quota_sector_keyword"

    id: Mapped[intpk]
    keyword: Mapped[str] = mapped_column(String(40), unique=True)
    sector: Mapped[PilotSector] = mapped_column(str_enum(PilotSector))


class QuotaThreshold(db.Model):
    """A sector's threshold and floor from ``effective_from`` on; rows are never edited, only superseded."""

    __tablename__ = "quota_threshold"
    __table_args__ = (
        CheckConstraint("threshold > 0 AND threshold <= 1", name="threshold_fraction"),
        CheckConstraint("floor_factor >= 0 AND floor_factor <= 1", name="floor_fraction"),
    )

    id: Mapped[intpk]
    sector: Mapped[PilotSector] = mapped_column(str_enum(PilotSector), index=True)
    threshold: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    floor_factor: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    effective_from: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    set_by: Mapped["User | None"] = relationship()  # noqa: F821
