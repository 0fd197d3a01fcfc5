"""Figures for the home page: how many verified enterprises and sites, by base."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Site
from wasteex.extensions import db
from wasteex.geo import Base


@dataclass
class Overview:
    enterprises: int
    producers: int
    utilisers: int
    carriers: int
    sites_by_base: dict[Base, int]


def platform_overview() -> Overview:
    verified = Enterprise.status == EnterpriseStatus.VERIFIED
    counts = db.session.execute(select(
        func.count(),
        func.sum(func.cast(Enterprise.is_producer, db.Integer)),
        func.sum(func.cast(Enterprise.is_utiliser, db.Integer)),
        func.sum(func.cast(Enterprise.is_carrier, db.Integer)),
    ).where(verified)).one()
    rows = db.session.execute(
        select(Site.base, func.count()).join(Enterprise).where(verified).group_by(Site.base)
    ).all()
    by_base = {base: 0 for base in Base} | {base: n for base, n in rows}
    return Overview(counts[0], counts[1] or 0, counts[2] or 0, counts[3] or 0, by_base)
