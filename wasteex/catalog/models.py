"""Catalog tables: categories, quality attributes, routes (editable data, not code)."""
from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Numeric, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import intpk, str120, str_enum
from wasteex.extensions import db

route_category = Table(
    "route_category",
    db.metadata,
    Column("route_id", ForeignKey("route.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("waste_category.id", ondelete="CASCADE"), primary_key=True),
)


class RouteKind(enum.Enum):
    UTILISATION = "utilisation"
    DISPOSAL = "disposal"


class WasteCategory(db.Model):
    """A legacy SW code with its 2024 S category."""

    __tablename__ = "waste_category"

    id: Mapped[intpk]
    sw_code: Mapped[str] = mapped_column(String(4), unique=True)
    s_code: Mapped[str] = mapped_column(String(3))
    name_zh: Mapped[str120]
    name_en: Mapped[str120]
    active: Mapped[bool] = mapped_column(default=True)


class QualityAttribute(db.Model):
    __tablename__ = "quality_attribute"

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str120]
    name_en: Mapped[str120]
    unit: Mapped[str] = mapped_column(String(16))
    min_value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    max_value: Mapped[Decimal] = mapped_column(Numeric(14, 4))


class Route(db.Model):
    """A utilisation or disposal route; with no categories it fits any waste."""

    __tablename__ = "route"

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str120]
    name_en: Mapped[str120]
    kind: Mapped[RouteKind] = mapped_column(str_enum(RouteKind))
    active: Mapped[bool] = mapped_column(default=True)

    categories: Mapped[list[WasteCategory]] = relationship(secondary=route_category, order_by="WasteCategory.sw_code")

    def fits(self, sw_code: str) -> bool:
        return not self.categories or any(c.sw_code == sw_code for c in self.categories)
