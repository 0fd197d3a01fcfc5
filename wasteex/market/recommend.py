"""Recommendations: the open demands an offer could serve, and the open offers a demand could take.

The rules are the matcher's own (``wasteex.matching.problem.incompatibility``):
rows are translated to its plain dataclasses and judged there, so the page
and the matcher can never disagree. SQL only narrows the candidates with what
those rules do not know (open, both enterprises verified, not the same
enterprise, tonnes left, a waste code in common) and to a bounding box of the
search radius; near candidates that fail a rule are kept with the reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import exists
from sqlalchemy.orm import joinedload, selectinload

from wasteex.accounts.models import User
from wasteex.enterprises.models import Enterprise, EnterpriseStatus
from wasteex.extensions import db
from wasteex.market import service
from wasteex.market.models import MAX_KM, Demand, DemandCode, ListingStatus, Offer
from wasteex.market.search import Hit, base_query, metres_from, within_box
from wasteex.market.terms import plain
from wasteex.matching import problem
from wasteex.streams.forms import local_name

LIMIT, NEAR_LIMIT = 20, 10


@dataclass
class Recommendations:
    compatible: list[Hit] = field(default_factory=list)  # nearest first
    near: list[Hit] = field(default_factory=list)  # within reach but not compatible, with the reason
    blocked: str | None = None  # why nothing is recommended at all


def pure_offer(offer: Offer) -> problem.Offer:
    return problem.Offer(
        id=str(offer.id), sw_code=offer.sw_code, kg=offer.remaining_kg, lat=float(offer.site.latitude),
        lon=float(offer.site.longitude), waste_class=offer.gb_class,
        quality={q.attribute.key: float(q.value) for q in offer.quality}, max_km=offer.max_km)


def pure_demand(demand: Demand) -> problem.Demand:
    def bound(value):
        return None if value is None else float(value)

    return problem.Demand(
        id=str(demand.id), accepts=frozenset(demand.accepts), kg=demand.remaining_kg,
        lat=float(demand.site.latitude), lon=float(demand.site.longitude),
        accepts_class=frozenset(demand.accepts_class),
        limits={lim.attribute.key: problem.Limit(min=bound(lim.min_value), max=bound(lim.max_value))
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
    stmt = _market(Demand, offer).where(
        exists().where(DemandCode.demand_id == Demand.id, DemandCode.sw_code == offer.sw_code),
        within_box(offer.site, offer.max_km or MAX_KM),
    ).options(joinedload(Demand.site), selectinload(Demand.codes), selectinload(Demand.limits))
    demands = list(db.session.scalars(stmt).unique())
    metres = metres_from(offer.site, [(d.site.latitude, d.site.longitude) for d in demands])
    mine = pure_offer(offer)
    judged = [(d, float(m), problem.incompatibility(mine, pure_demand(d), round(m)), d)
              for d, m in zip(demands, metres)]
    return _rank(judged)


def for_demand(actor: User, demand_id: int) -> Recommendations:
    """The open offers this demand accepts, nearest first."""
    demand = service.get_demand(actor, demand_id)
    blocked = _blocked(demand)
    if blocked:
        return Recommendations(blocked=blocked)
    stmt = _market(Offer, demand).where(Offer.sw_code.in_(demand.accepts), within_box(demand.site, demand.max_km)) \
        .options(joinedload(Offer.site), selectinload(Offer.quality))
    offers = list(db.session.scalars(stmt).unique())
    metres = metres_from(demand.site, [(o.site.latitude, o.site.longitude) for o in offers])
    theirs = pure_demand(demand)
    judged = [(o, float(m), problem.incompatibility(pure_offer(o), theirs, round(m)), demand)
              for o, m in zip(offers, metres)]
    return _rank(judged)


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
