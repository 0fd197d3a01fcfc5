"""Waste streams (one waste from one process at one site), lab reports and quality values."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, created_at, intpk, str120, str255, str_enum
from wasteex.extensions import db


class GbClass(enum.Enum):
    """GB 18599-2020 class, from the leaching test."""

    I = "I"  # noqa: E741 - the standard's own name
    II = "II"


class PhysicalForm(enum.Enum):
    SOLID = "solid"
    POWDER = "powder"
    SEMI_SOLID = "semi_solid"
    SLUDGE = "sludge"
    SLURRY = "slurry"


class WasteStream(db.Model):
    __tablename__ = "waste_stream"
    __table_args__ = (CheckConstraint("expected_annual_kg >= 0", name="expected_non_negative"),)

    id: Mapped[intpk]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str255]
    category_id: Mapped[int] = mapped_column(ForeignKey("waste_category.id"))
    code_2024: Mapped[str | None] = mapped_column(String(9))
    gb_class: Mapped[GbClass] = mapped_column(str_enum(GbClass, 4))
    physical_form: Mapped[PhysicalForm] = mapped_column(str_enum(PhysicalForm))
    process_step: Mapped[str255]
    generating_facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    storage_facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    main_components: Mapped[str] = mapped_column(Text, default="")
    hazardous_components: Mapped[str] = mapped_column(Text, default="")
    expected_annual_kg: Mapped[int] = mapped_column(BigInteger)
    planned_route_id: Mapped[int | None] = mapped_column(ForeignKey("route.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    enterprise: Mapped["Enterprise"] = relationship()  # noqa: F821
    site: Mapped["Site"] = relationship()  # noqa: F821
    category: Mapped["WasteCategory"] = relationship()  # noqa: F821
    generating_facility: Mapped["Facility | None"] = relationship(foreign_keys=[generating_facility_id])  # noqa: F821
    storage_facility: Mapped["Facility | None"] = relationship(foreign_keys=[storage_facility_id])  # noqa: F821
    planned_route: Mapped["Route | None"] = relationship()  # noqa: F821
    quality_values: Mapped[list[QualityValue]] = relationship(
        back_populates="stream", order_by="QualityValue.measured_on.desc()", cascade="all, delete-orphan")

    @property
    def sw_code(self) -> str:
        return self.category.sw_code

    def latest_quality(self) -> dict[str, QualityValue]:
        """The newest measured value of each attribute (values are ordered newest first)."""
        latest: dict[str, QualityValue] = {}
        for value in self.quality_values:
            latest.setdefault(value.attribute.key, value)
        return latest


class LabReport(db.Model):
    """An uploaded lab report; the file lives outside the web root under a random name."""

    __tablename__ = "lab_report"

    id: Mapped[intpk]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("waste_stream.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str255]
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    laboratory: Mapped[str120]
    report_date: Mapped[date] = mapped_column(Date)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QualityValue(db.Model):
    __tablename__ = "quality_value"

    id: Mapped[intpk]
    stream_id: Mapped[int] = mapped_column(ForeignKey("waste_stream.id", ondelete="CASCADE"), index=True)
    attribute_id: Mapped[int] = mapped_column(ForeignKey("quality_attribute.id"))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    measured_on: Mapped[date] = mapped_column(Date)
    lab_report_id: Mapped[int | None] = mapped_column(ForeignKey("lab_report.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    stream: Mapped[WasteStream] = relationship(back_populates="quality_values")
    attribute: Mapped["QualityAttribute"] = relationship()  # noqa: F821
    lab_report: Mapped[LabReport | None] = relationship()
