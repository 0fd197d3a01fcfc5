"""以渣定产 ("production set by slag"): the share of its own waste an enterprise got utilised, and its quota factor.

The city plan pilots tying the production of coal, coking and metallurgy
enterprises to how much of their own waste is utilised ("谁排渣谁治理，谁利用谁受益").

* **Sector**: an enterprise is in a pilot sector when its registered industry
  contains one of that sector's keywords (``QuotaSectorKeyword``: data, first
  loaded by the migration that made the table, then kept by regulators);
  the longest matching keyword wins, so "炼焦煤洗选" can be told from "炼焦".
* **Share**: the official utilisation rate of the enterprise's own ledger
  over the last 12 complete months — utilised ÷ (generated + utilised from
  prior storage), capped at 100 %.
* **Factor** (:func:`quota_factor`): 1.0 at or above the sector's threshold;
  below it the share divided by the threshold, never below the sector's
  floor. With threshold 60 % and floor 0.7: a share of 45 % gives 0.75, a
  share of 30 % gives 0.7. Threshold and floor are set per sector by
  regulators with an effective-from date; rows are never edited, a new row
  supersedes the old one, so the history is the table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wasteex.accounts.models import User
from wasteex.audit.service import record
from wasteex.enterprises.models import Enterprise
from wasteex.errors import Conflict, NotFound, PermissionDenied
from wasteex.extensions import db
from wasteex.ledger.rates import FlowTotals
from wasteex.market import terms
from wasteex.regulator.models import PilotSector, QuotaSectorKeyword, QuotaThreshold
from wasteex.regulator.window import Window

FACTOR_PLACES = Decimal("0.0001")
ONE = Decimal(1)


# Pure rules ----------------------------------------------------------------------

def sector_of(industry: str, keywords: Mapping[str, PilotSector]) -> PilotSector | None:
    """The sector of the longest keyword found in ``industry`` (ties: the alphabetically first keyword)."""
    hits = sorted((k for k in keywords if k and k in (industry or "")), key=lambda k: (-len(k), k))
    return keywords[hits[0]] if hits else None


def quota_factor(share: Decimal | None, threshold: Decimal, floor: Decimal) -> Decimal | None:
    """1 at or above ``threshold``, else ``share / threshold`` but at least ``floor``; None without a share."""
    if share is None:
        return None
    if share >= threshold:
        return ONE.quantize(FACTOR_PLACES)
    return max(floor, share / threshold).quantize(FACTOR_PLACES, ROUND_HALF_EVEN)


# Thresholds ----------------------------------------------------------------------

def require_regulator(actor: User) -> None:
    if not actor.is_regulator:
        raise PermissionDenied(_("Only regulators set the 以渣定产 rules."))


def require_reader(actor: User) -> None:
    if not actor.reads_everything:
        raise PermissionDenied(_("Only regulators and platform admins see the 以渣定产 pilot."))


def threshold_history(actor: User) -> list[QuotaThreshold]:
    require_reader(actor)
    return list(db.session.scalars(select(QuotaThreshold).options(selectinload(QuotaThreshold.set_by))
                                   .order_by(QuotaThreshold.effective_from.desc(), QuotaThreshold.id.desc())))


def thresholds_on(day: date) -> dict[PilotSector, QuotaThreshold]:
    """Each sector's threshold in force on ``day``: the latest effective-from on or before it, newest row first."""
    current: dict[PilotSector, QuotaThreshold] = {}
    for row in db.session.scalars(select(QuotaThreshold).where(QuotaThreshold.effective_from <= day)
                                  .order_by(QuotaThreshold.effective_from.desc(), QuotaThreshold.id.desc())):
        current.setdefault(row.sector, row)
    return current


def _fraction(raw, field: str, low: Decimal, high: Decimal, scale: Decimal, message: str) -> Decimal:
    """A number within [low, high] with at most 4 decimals once divided by ``scale``."""
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        terms.fail(field, message)
    if isinstance(raw, (bool, float)) or not value.is_finite() or not low <= value <= high:
        terms.fail(field, message)
    fraction = value / scale
    if fraction != fraction.quantize(FACTOR_PLACES):
        terms.fail(field, message)
    return fraction.quantize(FACTOR_PLACES)


def set_threshold(actor: User, data: dict, today: date) -> QuotaThreshold:
    """A new threshold and floor for a sector from ``effective_from`` (today when absent) on."""
    require_regulator(actor)
    try:
        sector = PilotSector(data.get("sector"))
    except ValueError:
        terms.fail("sector", _("Choose a pilot sector."))
    threshold = _fraction(data.get("threshold_pct"), "threshold_pct", Decimal("0.01"), Decimal(100), Decimal(100),
                          _("Enter a percentage above 0 and at most 100, with at most 2 decimals."))
    floor = _fraction(data.get("floor_factor"), "floor_factor", Decimal(0), ONE, ONE,
                      _("Enter a factor from 0 to 1 with at most 4 decimals."))
    raw_day = data.get("effective_from")
    effective = today if terms.blank(raw_day) else _day(raw_day)
    row = QuotaThreshold(sector=sector, threshold=threshold, floor_factor=floor, effective_from=effective,
                         note=terms.text(data, "note", 2000), set_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    record(actor, "quota_threshold.set", row, sector=sector, threshold=threshold, floor_factor=floor,
           effective_from=effective)
    return row


def _day(raw) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        terms.fail("effective_from", _("Enter a date as YYYY-MM-DD."))


# Sector keywords -----------------------------------------------------------------

def keywords() -> list[QuotaSectorKeyword]:
    return list(db.session.scalars(select(QuotaSectorKeyword).order_by(QuotaSectorKeyword.sector,
                                                                       QuotaSectorKeyword.keyword)))


def add_keyword(actor: User, data: dict) -> QuotaSectorKeyword:
    require_regulator(actor)
    keyword = terms.text(data, "keyword", 40, required=True)
    try:
        sector = PilotSector(data.get("sector"))
    except ValueError:
        terms.fail("sector", _("Choose a pilot sector."))
    if db.session.scalar(select(QuotaSectorKeyword.id).where(QuotaSectorKeyword.keyword == keyword)):
        raise Conflict(_("This keyword is already mapped."), {"keyword": [_("This keyword is already mapped.")]})
    row = QuotaSectorKeyword(keyword=keyword, sector=sector)
    db.session.add(row)
    db.session.flush()
    record(actor, "quota_keyword.added", row, keyword=keyword, sector=sector)
    return row


def remove_keyword(actor: User, keyword_id: int) -> None:
    require_regulator(actor)
    row = db.session.get(QuotaSectorKeyword, keyword_id)
    if row is None:
        raise NotFound(_("No such keyword."))
    record(actor, "quota_keyword.removed", row, keyword=row.keyword, sector=row.sector)
    db.session.delete(row)
    db.session.flush()


# The pilot table -----------------------------------------------------------------

@dataclass(frozen=True)
class PilotRow:
    enterprise: Enterprise
    sector: PilotSector
    flows: FlowTotals
    share: Decimal | None
    threshold: QuotaThreshold | None
    factor: Decimal | None


def pilot(actor: User, today: date) -> tuple[Window, list[PilotRow]]:
    """Every producer of a pilot sector with its 12-month share, the threshold in force and its factor."""
    require_reader(actor)
    mapping = {k.keyword: k.sector for k in keywords()}
    window = Window.before(today)
    flows = window.flows("enterprise")
    in_force = thresholds_on(today)
    rows = []
    producers = db.session.scalars(select(Enterprise).where(Enterprise.is_producer.is_(True)).order_by(Enterprise.name))
    for enterprise in producers:
        sector = sector_of(enterprise.industry, mapping)
        if sector is None:
            continue
        totals = flows.get(enterprise.id, FlowTotals())
        rate = totals.utilisation_rate
        share = None if rate is None else min(rate, ONE)
        threshold = in_force.get(sector)
        factor = None if threshold is None else quota_factor(share, threshold.threshold, threshold.floor_factor)
        rows.append(PilotRow(enterprise, sector, totals, share, threshold, factor))
    rows.sort(key=lambda r: (r.sector.value, r.factor if r.factor is not None else ONE * 2, r.enterprise.name))
    return window, rows
