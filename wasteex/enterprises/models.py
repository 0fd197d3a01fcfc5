"""Enterprises (产废/利用/运输单位), their sites and registered facilities."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, created_at, intpk, str120, str255, str_enum
from wasteex.extensions import db
from wasteex.geo import DIVISIONS, Base


class EnterpriseStatus(enum.Enum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class FacilityKind(enum.Enum):
    """The four facility kinds that need a code in the MEE ledger guide."""

    GENERATION = "generation"
    STORAGE = "storage"
    SELF_UTILISATION = "self_utilisation"
    SELF_DISPOSAL = "self_disposal"


class Enterprise(db.Model):
    __tablename__ = "enterprise"

    id: Mapped[intpk]
    name: Mapped[str255]
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    is_producer: Mapped[bool] = mapped_column(default=False)
    is_utiliser: Mapped[bool] = mapped_column(default=False)
    is_carrier: Mapped[bool] = mapped_column(default=False)
    industry: Mapped[str120]
    address: Mapped[str255]
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    contact_name: Mapped[str120]
    contact_phone: Mapped[str] = mapped_column(String(32))
    status: Mapped[EnterpriseStatus] = mapped_column(
        str_enum(EnterpriseStatus), default=EnterpriseStatus.PENDING, index=True
    )
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    memberships: Mapped[list["Membership"]] = relationship(  # noqa: F821
        back_populates="enterprise", cascade="all, delete-orphan"
    )
    sites: Mapped[list[Site]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="Site.id"
    )

    @property
    def is_verified(self) -> bool:
        return self.status is EnterpriseStatus.VERIFIED

    @property
    def kinds(self) -> list[str]:
        flags = (("producer", self.is_producer), ("utiliser", self.is_utiliser),
                 ("carrier", self.is_carrier))
        return [name for name, on in flags if on]

    @property
    def division(self):
        return DIVISIONS.get(self.division_code)


class Site(db.Model):
    """A facility location. Its base is stored (derived from the banner) for fast grouping."""

    __tablename__ = "site"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "code"),
        CheckConstraint("latitude >= -90 AND latitude <= 90", name="latitude_range"),
        CheckConstraint("longitude >= -180 AND longitude <= 180", name="longitude_range"),
    )

    id: Mapped[intpk]
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str255]
    code: Mapped[str] = mapped_column(String(40))
    address: Mapped[str255]
    latitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    base: Mapped[Base] = mapped_column(str_enum(Base), index=True)
    created_at: Mapped[created_at]

    enterprise: Mapped[Enterprise] = relationship(back_populates="sites")
    facilities: Mapped[list[Facility]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="Facility.code"
    )

    @property
    def division(self):
        return DIVISIONS.get(self.division_code)


class Facility(db.Model):
    """A generation, storage, self-utilisation or self-disposal facility with its MEE code."""

    __tablename__ = "facility"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FacilityKind] = mapped_column(str_enum(FacilityKind))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str255]
    responsible_person: Mapped[str120]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    site: Mapped[Site] = relationship(back_populates="facilities")
