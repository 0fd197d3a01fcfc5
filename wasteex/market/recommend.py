"""Recommendations: the open demands an offer could serve, and the open offers a demand could take.

The rules are the matcher's own (``wasteex.matching.problem.incompatibility``).
Finding the nearest partners among tens of thousands of open listings is the
job of :mod:`wasteex.market.spatial` (a KD-tree per waste code and the rules
as columns, checked against the scalar rule by tests); this module keeps one
such index per process fresh and loads only the rows it shows. Those rows are
judged again with the scalar rule at their live distance, so what the page
says is always the matcher's verdict; near candidates that fail a rule are
kept with the reason.

Freshness: every request asks the database for a cheap fingerprint of the
market (:func:`fingerprint`); an index built under another fingerprint is
rebuilt from the database, once, by the first request that notices. Other
worker processes are seen through the database, never through memory.
"""
from __future__ import annotations

import functools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Float, Text, case, cast, func, select, true
from sqlalchemy.orm import joinedload, selectinload

from wasteex.accounts.models import User
from wasteex.catalog.models import QualityAttribute
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Site
from wasteex.extensions import db
from wasteex.market import service
from wasteex.market.models import (MAX_KM, Demand, DemandCode, DemandLimit, ListingStatus, Offer,
                                   OfferQuality)
from wasteex.market.search import Hit, base_query, metres_from
from wasteex.market.spatial import DemandRow, MarketIndex, OfferRow
from wasteex.market.terms import plain
from wasteex.matching import problem
from wasteex.streams.forms import local_name

LIMIT, NEAR_LIMIT = 20, 10
# A change stamped this long before the newest one seen may still commit later (a slow transaction);
# rows changed since then are part of the fingerprint (see ``fingerprint``).
COMMIT_GRACE = timedelta(minutes=5)


@dataclass
class Recommendations:
    compatible: list[Hit] = field(default_factory=list)  # nearest first
    near: list[Hit] = field(default_factory=list)  # within reach but not compatible, with the reason
    blocked: str | None = None  # why nothing is recommended at all


def _bound(value) -> float | None:
    return None if value is None else float(value)


def pure_offer(offer: Offer) -> problem.Offer:
    return problem.Offer(
        id=str(offer.id), sw_code=offer.sw_code, kg=offer.remaining_kg, lat=float(offer.site.latitude),
        lon=float(offer.site.longitude), waste_class=offer.gb_class,
        quality={q.attribute.key: float(q.value) for q in offer.quality}, max_km=offer.max_km)


def pure_demand(demand: Demand) -> problem.Demand:
    return problem.Demand(
        id=str(demand.id), accepts=frozenset(demand.accepts), kg=demand.remaining_kg,
        lat=float(demand.site.latitude), lon=float(demand.site.longitude),
        accepts_class=frozenset(demand.accepts_class),
        limits={lim.attribute.key: problem.Limit(min=_bound(lim.min_value), max=_bound(lim.max_value))
                for lim in demand.limits},
        max_km=demand.max_km)


def _blocked(listing: Offer | Demand) -> str | None:
    if listing.status is ListingStatus.CLOSED:
        return _("A closed listing gets no recommendations.")
    if not listing.enterprise.is_verified:
        return _("Recommendations appear once the enterprise is verified.")
    if listing.remaining_kg <= 0:
        return _("Nothing is left of this listing.")
    return None


def _market(model, listing: Offer | Demand):
    """Open listings of other verified enterprises with tonnes left."""
    return base_query(model, model).where(
        model.status == ListingStatus.OPEN, Enterprise.status == EnterpriseStatus.VERIFIED,
        model.enterprise_id != listing.enterprise_id, model.remaining_kg > 0)


def for_offer(actor: User, offer_id: int) -> Recommendations:
    """The open demands that accept this offer, nearest first."""
    offer = service.get_offer(actor, offer_id)
    blocked = _blocked(offer)
    if blocked:
        return Recommendations(blocked=blocked)
    mine, index = pure_offer(offer), market_index()
    found = index.demands_for(mine, offer.enterprise_id, (offer.max_km or MAX_KM) * 1000, LIMIT, NEAR_LIMIT)
    ids = [int(index.demands.ids[p]) for p, _m in found.compatible + found.near]
    demands = _shown(Demand, offer, ids, joinedload(Demand.site), selectinload(Demand.codes),
                     selectinload(Demand.limits))
    metres = metres_from(offer.site, [(d.site.latitude, d.site.longitude) for d in demands])
    return _rank([(d, float(m), problem.incompatibility(mine, pure_demand(d), round(m)), d)
                  for d, m in zip(demands, metres)])


def for_demand(actor: User, demand_id: int) -> Recommendations:
    """The open offers this demand accepts, nearest first."""
    demand = service.get_demand(actor, demand_id)
    blocked = _blocked(demand)
    if blocked:
        return Recommendations(blocked=blocked)
    theirs, index = pure_demand(demand), market_index()
    found = index.offers_for(theirs, demand.enterprise_id, demand.max_km * 1000, LIMIT, NEAR_LIMIT)
    ids = [int(index.offers.ids[p]) for p, _m in found.compatible + found.near]
    offers = _shown(Offer, demand, ids, joinedload(Offer.site), selectinload(Offer.quality))
    metres = metres_from(demand.site, [(o.site.latitude, o.site.longitude) for o in offers])
    return _rank([(o, float(m), problem.incompatibility(pure_offer(o), theirs, round(m)), demand)
                  for o, m in zip(offers, metres)])


def _shown(model, listing: Offer | Demand, ids: list[int], *options) -> list:
    """The listings to show, re-read with the market's conditions (a row changed since the index was read drops)."""
    if not ids:
        return []
    return list(db.session.scalars(_market(model, listing).where(model.id.in_(ids)).options(*options)).unique())


def _rank(judged: list) -> Recommendations:
    """Compatible ones nearest first; then the nearest incompatible ones with the reason in words."""
    judged.sort(key=lambda item: (item[1], item[0].id))
    compatible = [Hit(x, km=m / 1000) for x, m, reason, _d in judged if reason is None][:LIMIT]
    near = [Hit(x, km=m / 1000, reason=explain(reason, demand))
            for x, m, reason, demand in judged if reason is not None][:NEAR_LIMIT]
    return Recommendations(compatible=compatible, near=near)


# The matcher's reasons, in the user's language ---------------------------------

_PATTERNS = (
    ("code", re.compile(r"code (?P<code>\S+) not accepted")),
    ("class_unknown", re.compile(r"class unknown.*")),
    ("class", re.compile(r"class (?P<cls>\S+) not accepted")),
    ("quality", re.compile(r"quality (?P<key>\w+)=(?P<value>\S+) outside limit")),
    ("quality_unknown", re.compile(r"quality (?P<key>\w+) unknown")),
    ("distance", re.compile(r"(?P<km>[\d.]+) km beyond the (?P<side>demand|offer)'s (?P<max>[\d.]+) km")),
)


def _range(limit) -> str:
    low, high = plain(limit.min_value), plain(limit.max_value)
    if low and high:
        return f"{low}–{high}"
    return f"≥ {low}" if low else f"≤ {high}"


def _message(kind: str, parts: dict, demand: Demand) -> str:
    limit = demand.limit_by_key().get(parts.get("key", ""))
    name = local_name(limit.attribute) if limit else parts.get("key", "")
    if kind == "code":
        return _("Waste code %(code)s is not among the accepted codes.", code=parts["code"])
    if kind == "class_unknown":
        return _("The GB 18599 class is not stated.")
    if kind == "class":
        return _("GB 18599 class %(cls)s is not accepted.", cls=parts["cls"])
    if kind == "quality":
        value = plain(Decimal(parts["value"]).quantize(Decimal("0.0001")))  # the matcher's float, as entered
        return _("%(attribute)s is %(value)s %(unit)s, outside the accepted %(range)s.", attribute=name,
                 value=value, unit=limit.attribute.unit if limit else "", range=_range(limit) if limit else "")
    if kind == "quality_unknown":
        return _("%(attribute)s is not stated on the offer, but the demand limits it.", attribute=name)
    if parts["side"] == "demand":
        return _("%(km)s km away, beyond the demand's %(max)s km.", km=parts["km"], max=parts["max"])
    return _("%(km)s km away, beyond the offer's %(max)s km.", km=parts["km"], max=parts["max"])


def explain(reason: str, demand: Demand) -> str:
    """A reason from ``problem.incompatibility`` in words; unknown wording passes through unchanged."""
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            return _message(kind, match.groupdict(), demand)
    return reason


# The index, one per process, kept fresh through the database --------------------

class _Cache:
    """The current index; readers take it without a lock, one rebuilder at a time replaces it."""

    def __init__(self):
        self.index: MarketIndex | None = None
        self.lock = threading.Lock()
        self.rebuilds = 0
        self.last_rebuild_seconds = 0.0


def _cache() -> _Cache:
    return current_app.extensions.setdefault("wasteex.market_index", _Cache())


def market_index() -> MarketIndex:
    """The open market as a spatial index, rebuilt if the database changed since it was read."""
    cache = _cache()
    index = cache.index
    if index is not None and fingerprint(index.fingerprint[0]) == index.fingerprint:
        return index
    with cache.lock:  # the others wait for the one rebuild rather than each doing it
        index = cache.index
        if index is not None and fingerprint(index.fingerprint[0]) == index.fingerprint:
            return index
        started = time.perf_counter()
        index = _load(fingerprint(_horizon()))  # fingerprint first: a change during the load rebuilds again
        cache.index, cache.rebuilds = index, cache.rebuilds + 1
        cache.last_rebuild_seconds = time.perf_counter() - started
        return index


def _changed_at(model):
    return model.__table__.c.get("changed_at")


def _horizon():
    """Rows stamped after this may belong to transactions that had not committed when the index was read."""
    if _changed_at(Offer) is None or _changed_at(Demand) is None:
        return None
    newest = [db.session.scalar(select(func.max(_changed_at(m)))) for m in (Offer, Demand)]
    newest = [n for n in newest if n is not None]
    return max(newest) - COMMIT_GRACE if newest else None


def _aggregates(table, *columns):
    return select(*columns).select_from(table).subquery()


def fingerprint(horizon=None) -> tuple:
    """What must change when the market the index holds changes: ``(horizon, aggregates, recent rows)``.

    * Offers and demands: count and highest id; with ``changed_at`` (indexed,
      stamped on every insert and update) the newest stamp, plus every
      ``(id, changed_at)`` stamped after ``horizon`` — a slow transaction that
      commits a stamp older than the newest one seen is still noticed, and the
      list stays short because any change since the last read rebuilds.
      Without ``changed_at``: sums over what the market conditions read.
    * Quality values, accepted codes and limits are child rows, written only
      by the market service, which stamps their listing's ``changed_at`` with
      them: the stamps cover them without scanning them.
    * Verified enterprises and site coordinates move listings in and out of
      the market and across the map.

    Sums, not a hash: two changes that cancel exactly would go unnoticed.
    One round trip (two with ``horizon``); ``benchmarks/recommend.py`` prints its cost.
    """
    parts = []
    for model in (Offer, Demand):
        stamp = _changed_at(model)
        if stamp is not None:
            parts.append(_aggregates(model, func.count(model.id), func.max(model.id), func.max(stamp)))
        else:
            is_open = model.status == ListingStatus.OPEN
            parts.append(_aggregates(model, func.count(model.id), func.max(model.id),
                                     func.sum(case((is_open, model.id), else_=0)),
                                     func.sum(case((is_open, model.remaining_kg), else_=0)),
                                     func.sum(case((is_open, model.max_km), else_=0)),
                                     func.sum(case((is_open, model.site_id), else_=0))))
    verified = Enterprise.status == EnterpriseStatus.VERIFIED
    parts += [_aggregates(Enterprise, func.sum(case((verified, 1), else_=0)),
                          func.sum(case((verified, Enterprise.id), else_=0))),
              _aggregates(Site, func.count(), func.sum(Site.latitude), func.sum(Site.longitude))]
    stmt = select(*(c for part in parts for c in part.c)).select_from(parts[0])
    for part in parts[1:]:
        stmt = stmt.join_from(parts[0], part, true())
    aggregates = tuple(db.session.execute(stmt).one())
    recent = ()
    if horizon is not None:
        recent = tuple(tuple(db.session.execute(select(m.id, _changed_at(m)).where(_changed_at(m) >= horizon)
                                                .order_by(m.id)).all()) for m in (Offer, Demand))
    return horizon, aggregates, recent


@functools.lru_cache(maxsize=256)
def _classes(text: str) -> frozenset[str]:
    """A demand's accepted classes from the JSON text: a handful of distinct values, each parsed once."""
    return frozenset(json.loads(text))


def _load(stamp: tuple) -> MarketIndex:
    """Every open listing of a verified enterprise with tonnes left, as plain rows (Core, no ORM objects).

    Numbers are cast to floating point in SQL: the same doubles as ``float(Decimal)`` in :func:`pure_offer`.
    """
    conn = db.session.connection()

    def number(column):
        return cast(column, Float)

    offer_open = [Offer.status == ListingStatus.OPEN, Offer.remaining_kg > 0]
    quality: dict[int, dict[str, float]] = {}
    for offer_id, key, value in conn.execute(
            select(OfferQuality.offer_id, QualityAttribute.key, number(OfferQuality.value))
            .join(QualityAttribute, QualityAttribute.id == OfferQuality.attribute_id)
            .join(Offer, Offer.id == OfferQuality.offer_id).where(*offer_open)).all():
        quality.setdefault(offer_id, {})[key] = value
    offers = [OfferRow(i, e, code, cls, km, lat, lon, quality.get(i, {})) for i, e, code, cls, km, lat, lon in conn.execute(
        base_query(Offer, Offer.id, Offer.enterprise_id, Offer.sw_code, Offer.gb_class, Offer.max_km,
                   number(Site.latitude), number(Site.longitude))
        .where(*offer_open, Enterprise.status == EnterpriseStatus.VERIFIED)).all()]

    demand_open = [Demand.status == ListingStatus.OPEN, Demand.remaining_kg > 0]
    codes: dict[int, set[str]] = {}
    for demand_id, code in conn.execute(select(DemandCode.demand_id, DemandCode.sw_code)
                                        .join(Demand, Demand.id == DemandCode.demand_id).where(*demand_open)).all():
        codes.setdefault(demand_id, set()).add(code)
    limits: dict[int, dict[str, problem.Limit]] = {}
    for demand_id, key, low, high in conn.execute(
            select(DemandLimit.demand_id, QualityAttribute.key, number(DemandLimit.min_value),
                   number(DemandLimit.max_value))
            .join(QualityAttribute, QualityAttribute.id == DemandLimit.attribute_id)
            .join(Demand, Demand.id == DemandLimit.demand_id).where(*demand_open)).all():
        limits.setdefault(demand_id, {})[key] = problem.Limit(min=low, max=high)
    demands = [DemandRow(i, e, frozenset(codes.get(i, ())), _classes(classes), km, lat, lon, limits.get(i, {}))
               for i, e, classes, km, lat, lon in conn.execute(
                   base_query(Demand, Demand.id, Demand.enterprise_id, cast(Demand.accepts_class, Text),
                              Demand.max_km, number(Site.latitude), number(Site.longitude))
                   .where(*demand_open, Enterprise.status == EnterpriseStatus.VERIFIED)).all()]
    return MarketIndex(offers, demands, fingerprint=stamp)
