"""Browsing offers and demands: filters, allow-listed sorts, pages, distance from one of my sites.

Distances are WGS-84 geodesics (``wasteex.matching.geodesy``: vectorised,
equal to ``geopy.distance.geodesic`` within a millimetre). With a site given,
SQL first narrows the rows to a bounding box that provably contains the
circle, the exact distances are computed for the survivors only, and the page
is cut after sorting in Python. That is exact and fast for thousands of open
listings; a spatial index for tens of thousands is a later slice.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import selectinload

from wasteex.accounts.models import User
from wasteex.catalog.models import QualityAttribute
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Site
from wasteex.errors import ValidationFailed
from wasteex.extensions import db
from wasteex.geo import Base, DIVISIONS
from wasteex.listing import MAX_PER_PAGE, Page, like_pattern
from wasteex.market.models import Demand, DemandCode, DemandLimit, ListingStatus, Offer, OfferQuality
from wasteex.matching.geodesy import geodesic_m

SORTS = ("newest", "price", "-price", "tonnes", "-tonnes", "distance")
STATUSES = ("open", "draft", "paused", "closed", "all")


@dataclass
class ListingFilter:
    q: str = ""
    sw_code: str = ""
    base: str = ""
    division: str = ""
    status: str = "open"  # one of STATUSES; visibility still applies
    enterprise_id: int | None = None
    min_tonnes: Decimal | None = None
    # {attribute key: (low, high)}: offers with a known value inside; demands whose limits admit it all.
    quality: dict[str, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)
    near: int | None = None  # a site of one of my enterprises
    within_km: int | None = None


@dataclass
class Hit:
    """A listing with its distance (km) from the chosen site and, for near misses, why it does not fit."""

    listing: Offer | Demand
    km: float | None = None
    reason: str | None = None

    def __getattr__(self, name: str):
        if name == "listing" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.listing, name)


# Geometry ----------------------------------------------------------------------

def bounding_box(lat: float, lon: float, km: float) -> tuple[float, float, list[tuple[float, float]] | None]:
    """Latitude bounds and longitude ranges (None: all) containing every point within ``km``.

    A degree of latitude is at least 110.574 km on WGS-84; for longitude the
    spherical tangent-meridian bound is taken on a sphere of 6335 km, WGS-84's
    smallest radius of curvature, so the box is never too small; 1 % and
    0.01° of margin cover the rest.
    """
    dlat = km / 110.574 * 1.01 + 0.01
    low, high = lat - dlat, lat + dlat
    ratio = math.sin(min(km / 6335.0, math.pi / 2)) / max(math.cos(math.radians(lat)), 1e-12)
    if low <= -90 or high >= 90 or ratio >= 1:
        return low, high, None  # a pole is within reach: every longitude
    dlon = math.degrees(math.asin(ratio)) * 1.01 + 0.01
    west, east = lon - dlon, lon + dlon
    if west < -180:
        return low, high, [(west + 360, 180.0), (-180.0, east)]
    if east > 180:
        return low, high, [(west, 180.0), (-180.0, east - 360)]
    return low, high, [(west, east)]


def _degrees(value: float) -> Decimal:
    return Decimal(str(round(value, 6)))


def within_box(site: Site, km: float):
    """A SQL condition on ``Site`` columns: inside the bounding box around ``site``."""
    low, high, ranges = bounding_box(float(site.latitude), float(site.longitude), km)
    condition = Site.latitude.between(_degrees(low), _degrees(high))
    if ranges is None:
        return condition
    return and_(condition, or_(*(Site.longitude.between(_degrees(w), _degrees(e)) for w, e in ranges)))


def metres_from(site: Site, sites: list[tuple[Decimal, Decimal]]) -> np.ndarray:
    """Geodesic metres from ``site`` to each (latitude, longitude)."""
    if not sites:
        return np.zeros(0)
    lats = np.array([float(lat) for lat, _lon in sites])
    lons = np.array([float(lon) for _lat, lon in sites])
    return geodesic_m(float(site.latitude), float(site.longitude), lats, lons)


# Filters -----------------------------------------------------------------------

def visible(actor: User, model):
    """Open listings of verified enterprises, plus everything of my enterprises (all for regulators)."""
    if actor.reads_everything:
        return true()
    public = and_(model.status == ListingStatus.OPEN, Enterprise.status == EnterpriseStatus.VERIFIED)
    mine = [m.enterprise_id for m in actor.memberships]
    return or_(public, model.enterprise_id.in_(mine)) if mine else public


def _attribute_ids(keys) -> dict[str, int]:
    found = dict(db.session.execute(select(QualityAttribute.key, QualityAttribute.id)
                                    .where(QualityAttribute.key.in_(list(keys)))).all())
    for key in keys:
        if key not in found:
            raise ValidationFailed.on(f"{key}_min", _("Unknown quality attribute."))
    return found


def _quality_condition(model, attribute_id: int, low: Decimal | None, high: Decimal | None):
    if model is Offer:
        bounds = [OfferQuality.offer_id == Offer.id, OfferQuality.attribute_id == attribute_id]
        bounds += [OfferQuality.value >= low] if low is not None else []
        bounds += [OfferQuality.value <= high] if high is not None else []
        return exists().where(*bounds)
    # A demand admits [low, high] unless its limit on the attribute cuts into it (one side alone is a point).
    low, high = (low if low is not None else high), (high if high is not None else low)
    return ~exists().where(DemandLimit.demand_id == Demand.id, DemandLimit.attribute_id == attribute_id,
                           or_(DemandLimit.min_value > low, DemandLimit.max_value < high))


def conditions(actor: User, model, flt: ListingFilter) -> list:
    where = [visible(actor, model)]
    if flt.status in {s.value for s in ListingStatus}:
        where.append(model.status == ListingStatus(flt.status))
    if flt.sw_code:
        code = flt.sw_code.upper()
        where.append(Offer.sw_code == code if model is Offer else
                     exists().where(DemandCode.demand_id == Demand.id, DemandCode.sw_code == code))
    if flt.base in {b.value for b in Base}:
        where.append(Site.base == Base(flt.base))
    if flt.division in DIVISIONS:
        where.append(Site.division_code == flt.division)
    if flt.enterprise_id:
        where.append(model.enterprise_id == flt.enterprise_id)
    if flt.min_tonnes is not None:
        where.append(model.remaining_kg >= int((flt.min_tonnes * 1000).to_integral_value(ROUND_CEILING)))
    if flt.q.strip():
        where.append(model.title.ilike(like_pattern(flt.q.strip()), escape="\\"))
    wanted = {k: v for k, v in flt.quality.items() if v[0] is not None or v[1] is not None}
    for key, attribute_id in _attribute_ids(wanted).items():
        where.append(_quality_condition(model, attribute_id, *wanted[key]))
    return where


def base_query(model, *columns):
    return (select(*columns).select_from(model).join(Site, model.site_id == Site.id)
            .join(Enterprise, model.enterprise_id == Enterprise.id))


def my_site(actor: User, site_id: int) -> Site:
    """A site the actor may measure from: one of their enterprises' (any site for read-all accounts)."""
    site = db.session.get(Site, site_id)
    if site is None or not (actor.reads_everything or actor.role_in(site.enterprise_id) is not None):
        raise ValidationFailed.on("near", _("Choose one of your enterprise's sites."))
    return site


# Searching ---------------------------------------------------------------------

def shown(model) -> list:
    """Loader options for what a list of listings shows (its party, place, a demand's codes, route and
    limits, an offer's quality): a page of hits costs a fixed handful of queries, not a few per row."""
    if model is Demand:
        return [selectinload(Demand.enterprise), selectinload(Demand.site), selectinload(Demand.route),
                selectinload(Demand.codes), selectinload(Demand.limits)]
    return [selectinload(Offer.enterprise), selectinload(Offer.site), selectinload(Offer.quality)]


def search_offers(actor: User, flt: ListingFilter, sort: str | None, page: int, per_page: int) -> Page[Hit]:
    return _search(actor, Offer, flt, sort, page, per_page)


def search_demands(actor: User, flt: ListingFilter, sort: str | None, page: int, per_page: int) -> Page[Hit]:
    return _search(actor, Demand, flt, sort, page, per_page)


def _search(actor: User, model, flt: ListingFilter, sort: str | None, page: int, per_page: int) -> Page[Hit]:
    sort = sort if sort in SORTS and (sort != "distance" or flt.near) else ("distance" if flt.near else "newest")
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    where = conditions(actor, model, flt)
    if flt.near:
        return _search_near(actor, model, flt, where, sort, page, per_page)
    stmt = base_query(model, model).where(*where)
    total = db.session.scalar(base_query(model, func.count(model.id)).where(*where))
    page = max(1, min(page or 1, max(1, math.ceil(total / per_page))))
    items = db.session.scalars(stmt.order_by(*_order(model, sort)).limit(per_page).offset((page - 1) * per_page)
                               .options(*shown(model)))
    return Page(items=[Hit(item) for item in items], page=page, per_page=per_page, total=total, sort=sort)


def _order(model, sort: str) -> list:
    published = func.coalesce(model.published_at, model.created_at)
    return {
        "newest": [published.desc(), model.id.desc()],
        "price": [model.price_per_t.asc(), model.id.asc()],
        "-price": [model.price_per_t.desc(), model.id.asc()],
        "tonnes": [model.remaining_kg.asc(), model.id.asc()],
        "-tonnes": [model.remaining_kg.desc(), model.id.asc()],
    }[sort]


def _search_near(actor: User, model, flt: ListingFilter, where: list, sort: str, page: int,
                 per_page: int) -> Page[Hit]:
    site = my_site(actor, flt.near)
    if flt.within_km:
        where = [*where, within_box(site, flt.within_km)]
    published = func.coalesce(model.published_at, model.created_at)
    rows = db.session.execute(base_query(model, model.id, Site.latitude, Site.longitude, model.price_per_t,
                                         model.remaining_kg, published).where(*where)).all()
    metres = metres_from(site, [(row[1], row[2]) for row in rows])
    kept = [(row, float(m)) for row, m in zip(rows, metres)
            if not flt.within_km or m <= flt.within_km * 1000]
    keys = {
        "distance": lambda rm: (rm[1], rm[0][0]), "price": lambda rm: (rm[0][3], rm[0][0]),
        "-price": lambda rm: (-rm[0][3], rm[0][0]), "tonnes": lambda rm: (rm[0][4], rm[0][0]),
        "-tonnes": lambda rm: (-rm[0][4], rm[0][0]), "newest": lambda rm: (-rm[0][5].timestamp(), -rm[0][0]),
    }
    kept.sort(key=keys[sort])
    total = len(kept)
    page = max(1, min(page or 1, max(1, math.ceil(total / per_page))))
    chosen = kept[(page - 1) * per_page: page * per_page]
    objects = {o.id: o for o in db.session.scalars(select(model).where(model.id.in_([r[0] for r, _m in chosen]))
                                                   .options(*shown(model)))} \
        if chosen else {}
    hits = [Hit(objects[row[0]], km=m / 1000) for row, m in chosen]
    return Page(items=hits, page=page, per_page=per_page, total=total, sort=sort)

