"""Offers (供应) and demands (需求). Tonnage is integer kilograms; ``remaining_kg`` never goes below 0.

Quality values, accepted codes and limits are child rows rather than JSON, so
that browsing can filter on them in SQL on both engines (a JSON text value
compares as text on SQLite) and values stay exact Decimals.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, created_at, intpk, str255, str_enum, utcnow
from wasteex.extensions import db

MAX_KM = 1000  # the farthest a listing may reach; also the recommendations' search radius


class ListingStatus(enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class Supply(enum.Enum):
    ONE_OFF = "one_off"
    RECURRING = "recurring"  # X kg per month over a window of months


class TransportBy(enum.Enum):
    PRODUCER = "producer"
    UTILISER = "utiliser"
    EITHER = "either"


class _Listing:
    """What offers and demands share: quantities over time, price, status."""

    # Any change, including tonnes taken by an agreement: what caches of the market compare.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow,
                                                 server_default=func.current_timestamp(), index=True)

    @property
    def months(self) -> int | None:
        """Months in the window, both ends included (recurring listings only)."""
        if self.window_start is None or self.window_end is None:
            return None
        return (self.window_end.year - self.window_start.year) * 12 + self.window_end.month - self.window_start.month + 1

    @property
    def is_open(self) -> bool:
        return self.status is ListingStatus.OPEN


class Offer(_Listing, db.Model):
    __tablename__ = "offer"
    __table_args__ = (
        CheckConstraint("remaining_kg >= 0", name="remaining_non_negative"),
        CheckConstraint("remaining_kg <= total_kg", name="remaining_within_total"),
        CheckConstraint("total_kg > 0", name="total_positive"),
        CheckConstraint(f"max_km IS NULL OR (max_km > 0 AND max_km <= {MAX_KM})", name="max_km_range"),
        CheckConstraint("window_end IS NULL OR window_end >= window_start", name="window_ordered"),
    )

    id: Mapped[intpk]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("waste_stream.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    sw_code: Mapped[str] = mapped_column(String(4), index=True)
    gb_class: Mapped[str] = mapped_column(String(4))
    title: Mapped[str255]
    description: Mapped[str] = mapped_column(Text, default="")
    supply: Mapped[Supply] = mapped_column(str_enum(Supply))
    kg_per_month: Mapped[int | None] = mapped_column(BigInteger)
    window_start: Mapped[date | None] = mapped_column(Date)  # first day of the first month
    window_end: Mapped[date | None] = mapped_column(Date)  # last day of the last month
    total_kg: Mapped[int] = mapped_column(BigInteger)
    remaining_kg: Mapped[int] = mapped_column(BigInteger)
    lab_report_id: Mapped[int | None] = mapped_column(ForeignKey("lab_report.id", ondelete="SET NULL"))
    # Yuan per tonne; negative: the producer pays a gate fee (common for slag and ash).
    price_per_t: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    transport_by: Mapped[TransportBy] = mapped_column(str_enum(TransportBy))
    max_km: Mapped[int | None]
    status: Mapped[ListingStatus] = mapped_column(str_enum(ListingStatus), default=ListingStatus.DRAFT, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    enterprise: Mapped["Enterprise"] = relationship()  # noqa: F821
    stream: Mapped["WasteStream"] = relationship()  # noqa: F821
    site: Mapped["Site"] = relationship()  # noqa: F821
    lab_report: Mapped["LabReport | None"] = relationship()  # noqa: F821
    quality: Mapped[list[OfferQuality]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferQuality.attribute_id")

    def quality_by_key(self) -> dict[str, OfferQuality]:
        return {q.attribute.key: q for q in self.quality}


class OfferQuality(db.Model):
    """One quality value an offer states: the stream's latest, or a newer one declared on the offer."""

    __tablename__ = "offer_quality"

    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), primary_key=True)
    attribute_id: Mapped[int] = mapped_column(ForeignKey("quality_attribute.id"), primary_key=True, index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    measured_on: Mapped[date] = mapped_column(Date)
    declared: Mapped[bool] = mapped_column(default=False)  # False: inherited from the stream
    lab_report_id: Mapped[int | None] = mapped_column(ForeignKey("lab_report.id", ondelete="SET NULL"))

    offer: Mapped[Offer] = relationship(back_populates="quality")
    attribute: Mapped["QualityAttribute"] = relationship(lazy="joined")  # noqa: F821


class Demand(_Listing, db.Model):
    __tablename__ = "demand"
    __table_args__ = (
        CheckConstraint("remaining_kg >= 0", name="remaining_non_negative"),
        CheckConstraint("remaining_kg <= total_kg", name="remaining_within_total"),
        CheckConstraint("total_kg > 0", name="total_positive"),
        CheckConstraint(f"max_km > 0 AND max_km <= {MAX_KM}", name="max_km_range"),
        CheckConstraint("window_end IS NULL OR window_end >= window_start", name="window_ordered"),
    )

    id: Mapped[intpk]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    title: Mapped[str255]
    description: Mapped[str] = mapped_column(Text, default="")
    accepts_class: Mapped[list[str]] = mapped_column(JSON)  # GB 18599 classes, at least one
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id"))
    supply: Mapped[Supply] = mapped_column(str_enum(Supply))
    kg_per_month: Mapped[int | None] = mapped_column(BigInteger)
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    total_kg: Mapped[int] = mapped_column(BigInteger)
    remaining_kg: Mapped[int] = mapped_column(BigInteger)
    max_km: Mapped[int]
    # Yuan per tonne offered; negative: the utiliser charges a gate fee.
    price_per_t: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    status: Mapped[ListingStatus] = mapped_column(str_enum(ListingStatus), default=ListingStatus.DRAFT, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    enterprise: Mapped["Enterprise"] = relationship()  # noqa: F821
    site: Mapped["Site"] = relationship()  # noqa: F821
    route: Mapped["Route"] = relationship()  # noqa: F821
    codes: Mapped[list[DemandCode]] = relationship(
        back_populates="demand", cascade="all, delete-orphan", order_by="DemandCode.sw_code")
    limits: Mapped[list[DemandLimit]] = relationship(
        back_populates="demand", cascade="all, delete-orphan", order_by="DemandLimit.attribute_id")

    @property
    def accepts(self) -> list[str]:
        return [c.sw_code for c in self.codes]

    def limit_by_key(self) -> dict[str, DemandLimit]:
        return {limit.attribute.key: limit for limit in self.limits}


class DemandCode(db.Model):
    """One SW code a demand accepts (a row, so "who takes SW02?" is an indexed lookup)."""

    __tablename__ = "demand_code"

    demand_id: Mapped[int] = mapped_column(ForeignKey("demand.id", ondelete="CASCADE"), primary_key=True)
    sw_code: Mapped[str] = mapped_column(String(4), primary_key=True, index=True)

    demand: Mapped[Demand] = relationship(back_populates="codes")


class DemandLimit(db.Model):
    """A demand's bound on one quality attribute; either side may be open, not both."""

    __tablename__ = "demand_limit"
    __table_args__ = (
        CheckConstraint("min_value IS NOT NULL OR max_value IS NOT NULL", name="bounded"),
        CheckConstraint("min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="ordered"),
    )

    demand_id: Mapped[int] = mapped_column(ForeignKey("demand.id", ondelete="CASCADE"), primary_key=True)
    attribute_id: Mapped[int] = mapped_column(ForeignKey("quality_attribute.id"), primary_key=True, index=True)
    min_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    max_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))

    demand: Mapped[Demand] = relationship(back_populates="limits")
    attribute: Mapped["QualityAttribute"] = relationship(lazy="joined")  # noqa: F821
