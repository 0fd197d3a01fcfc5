"""Offers (供应) and demands (需求): create, edit, publish, pause, close, and who sees what.

Every function takes the acting user, flushes and returns; the caller commits.
Seeing: members of the listing's enterprise and read-all accounts see every
listing; anyone else only OPEN listings of verified enterprises, and the rest
is a 404 rather than a 403 so that a competitor's draft does not even leak its
existence. Changing: the enterprise's admins and members, never regulators;
publishing also needs the enterprise verified (drafts are fine while pending).
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from wasteex.accounts.models import User
from wasteex.accounts.permissions import (
    can_write_enterprise,
    require_business_writer,
    require_enterprise_reader,
    require_enterprise_writer,
)
from wasteex.audit.service import record
from wasteex.catalog import service as catalog
from wasteex.catalog.models import Route, RouteKind, WasteCategory
from wasteex.database import utcnow
from wasteex.enterprises.models import Site
from wasteex.errors import InvalidTransition, NotFound, PermissionDenied
from wasteex.extensions import db
from wasteex.ledger.rates import kg_to_tonnes_str
from wasteex.market import terms
from wasteex.market.models import (
    Demand,
    DemandCode,
    DemandLimit,
    ListingStatus,
    Offer,
    OfferQuality,
    TransportBy,
)
from wasteex.market.terms import fail
from wasteex.streams.models import GbClass, LabReport, WasteStream

OPEN, DRAFT, PAUSED, CLOSED = ListingStatus.OPEN, ListingStatus.DRAFT, ListingStatus.PAUSED, ListingStatus.CLOSED
# action: (statuses it starts from, status it leads to)
TRANSITIONS = {
    "publish": ({DRAFT, PAUSED}, OPEN),
    "pause": ({OPEN}, PAUSED),
    "close": ({DRAFT, OPEN, PAUSED}, CLOSED),
}


class NotVerified(PermissionDenied):
    """Publishing before a platform admin verified the enterprise."""

    code = "enterprise_not_verified"


# Seeing and changing ---------------------------------------------------------

def can_see(actor: User, listing: Offer | Demand) -> bool:
    if actor.reads_everything or actor.role_in(listing.enterprise_id) is not None:
        return True
    return listing.status is OPEN and listing.enterprise.is_verified


def can_change(actor: User, listing: Offer | Demand) -> bool:
    return can_write_enterprise(actor, listing.enterprise_id) and listing.status is not CLOSED


def get_offer(actor: User, offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or not can_see(actor, offer):
        raise NotFound(_("No such offer."))
    return offer


def get_demand(actor: User, demand_id: int) -> Demand:
    demand = db.session.get(Demand, demand_id)
    if demand is None or not can_see(actor, demand):
        raise NotFound(_("No such demand."))
    return demand


def require_changeable(actor: User, listing: Offer | Demand) -> None:
    require_enterprise_writer(actor, listing.enterprise_id)
    if listing.status is CLOSED:
        raise InvalidTransition(_("A closed listing cannot be changed."))


def listings_of(actor: User, enterprise_id: int) -> tuple[list[Offer], list[Demand]]:
    """Every offer and demand of one enterprise, whatever its status (members and regulators)."""
    require_enterprise_reader(actor, enterprise_id)
    offers = db.session.scalars(select(Offer).where(Offer.enterprise_id == enterprise_id)
                                .order_by(Offer.created_at.desc(), Offer.id.desc()))
    demands = db.session.scalars(select(Demand).where(Demand.enterprise_id == enterprise_id)
                                 .order_by(Demand.created_at.desc(), Demand.id.desc()))
    return list(offers), list(demands)


# Shared terms -------------------------------------------------------------------

def _terms(data: dict, km_required: bool) -> dict:
    return {"title": terms.text(data, "title", 255, required=True),
            "description": terms.text(data, "description", 4000),
            **terms.quantities(data), "price_per_t": terms.price(data.get("price_per_t")),
            "max_km": terms.max_km(data.get("max_km"), required=km_required)}


def _apply(listing: Offer | Demand, values: dict) -> None:
    """Set the values; a new total moves ``remaining_kg`` by the same amount (agreed tonnes stay agreed).

    The listing is stamped even when only its child rows (quality values, accepted codes, limits)
    change: the recommendation index's fingerprint watches the listings' stamps, not their children.
    """
    listing.changed_at = utcnow()
    total = values.pop("total_kg")
    if listing.total_kg is None:
        listing.total_kg = listing.remaining_kg = total
    else:
        remaining = listing.remaining_kg + total - listing.total_kg
        if remaining < 0:
            field = "tonnes" if values["kg_per_month"] is None else "tonnes_per_month"
            fail(field, _("More than this is already agreed."))
        listing.total_kg, listing.remaining_kg = total, remaining
    for key, value in values.items():
        setattr(listing, key, value)


def _input_terms(listing: Offer | Demand) -> dict:
    """The stored terms in the shape the parsers take (for edit forms and PATCH)."""
    recurring = listing.kg_per_month is not None
    return {"title": listing.title, "description": listing.description, "supply": listing.supply.value,
            "tonnes": None if recurring else kg_to_tonnes_str(listing.total_kg),
            "tonnes_per_month": kg_to_tonnes_str(listing.kg_per_month) if recurring else None,
            "window_start": listing.window_start, "window_end": listing.window_end,
            "price_per_t": listing.price_per_t, "max_km": listing.max_km}


# Offers -------------------------------------------------------------------------

def _writable_stream(actor: User, stream_id) -> WasteStream:
    require_business_writer(actor)
    stream = db.session.get(WasteStream, int(stream_id)) if str(stream_id or "").isdigit() else None
    if stream is not None and actor.role_in(stream.enterprise_id) is not None:
        require_enterprise_writer(actor, stream.enterprise_id)  # a reader is refused, not misled
    if stream is None or not can_write_enterprise(actor, stream.enterprise_id) or not stream.active:
        fail("stream_id", _("Choose one of your enterprise's active waste streams."))
    return stream


def _measured_on(raw, field: str) -> date:
    try:
        day = raw if isinstance(raw, date) else date.fromisoformat(str(raw or "").strip())
    except ValueError:
        fail(field, _("Enter the measurement date."))
    if day > date.today():
        fail(field, _("Enter the measurement date (not in the future)."))
    return day


def _quality(stream: WasteStream, overrides: dict, strict: bool = True) -> list[OfferQuality]:
    """The stream's latest value of each attribute, replaced where the offer states a newer one.

    A stated value older than the stream's is refused when the caller sends it
    (``strict``); one kept from before simply yields to the newer measurement.
    """
    latest = stream.latest_quality()
    rows = {key: OfferQuality(attribute=q.attribute, value=q.value, measured_on=q.measured_on, declared=False,
                              lab_report_id=q.lab_report_id) for key, q in latest.items()}
    attributes = {a.key: a for a in catalog.attributes()}
    for key, override in (overrides or {}).items():
        attribute = attributes.get(key)
        if attribute is None or not isinstance(override, dict):
            fail(f"quality.{str(key)[:40]}", _("Unknown quality attribute."))
        if terms.blank(override.get("value")) and terms.blank(override.get("measured_on")):
            continue
        value = terms.decimal_in(override.get("value"), f"quality.{key}.value", attribute.min_value,
                                 attribute.max_value, attribute.unit)
        measured_on = _measured_on(override.get("measured_on"), f"quality.{key}.measured_on")
        inherited = latest.get(key)
        if inherited is not None and measured_on < inherited.measured_on:
            if not strict:
                continue
            fail(f"quality.{key}.measured_on", _("The stream has a value measured on %(day)s; a value stated "
                                                 "on the offer must be at least as recent.",
                                                 day=inherited.measured_on.isoformat()))
        rows[key] = OfferQuality(attribute=attribute, value=value, measured_on=measured_on, declared=True)
    return list(rows.values())


def _offer_values(stream: WasteStream, data: dict) -> dict:
    try:
        transport_by = TransportBy(data.get("transport_by"))
    except ValueError:
        fail("transport_by", _("Choose who arranges transport."))
    report_id = data.get("lab_report_id") or None
    if report_id is not None:
        report = db.session.get(LabReport, int(report_id)) if str(report_id).isdigit() else None
        if report is None or report.stream_id != stream.id:
            fail("lab_report_id", _("Choose a lab report of this stream."))
    return {**_terms(data, km_required=False), "transport_by": transport_by, "lab_report_id": report_id and int(report_id),
            "site_id": stream.site_id, "sw_code": stream.sw_code, "gb_class": stream.gb_class.value}


def create_offer(actor: User, data: dict) -> Offer:
    """Offer tonnage of a registered stream; code, class, site and quality come from the stream."""
    stream = _writable_stream(actor, data.get("stream_id"))
    values = _offer_values(stream, data)
    offer = Offer(enterprise_id=stream.enterprise_id, stream=stream, status=DRAFT, created_by_id=actor.id,
                  total_kg=None, quality=_quality(stream, data.get("quality") or {}))
    _apply(offer, values)
    db.session.add(offer)
    record(actor, "offer.created", offer, enterprise_id=offer.enterprise_id, title=offer.title,
           total_kg=offer.total_kg)
    return offer


def update_offer(actor: User, offer_id: int, data: dict) -> Offer:
    """Change an offer's terms; unnamed fields keep their value (PATCH semantics)."""
    offer = get_offer(actor, offer_id)
    require_changeable(actor, offer)
    merged = offer_input(offer) | {k: v for k, v in data.items() if k != "stream_id"}
    values = _offer_values(offer.stream, merged)
    quality = _quality(offer.stream, merged.get("quality") or {}, strict="quality" in data)
    _apply(offer, values)
    offer.quality = quality
    record(actor, "offer.updated", offer, enterprise_id=offer.enterprise_id, total_kg=offer.total_kg)
    return offer


def offer_input(offer: Offer) -> dict:
    declared = {q.attribute.key: {"value": q.value, "measured_on": q.measured_on}
                for q in offer.quality if q.declared}
    return {**_input_terms(offer), "stream_id": offer.stream_id, "transport_by": offer.transport_by.value,
            "lab_report_id": offer.lab_report_id, "quality": declared}


# Demands ------------------------------------------------------------------------

def _writable_site(actor: User, site_id) -> Site:
    require_business_writer(actor)
    site = db.session.get(Site, int(site_id)) if str(site_id or "").isdigit() else None
    if site is not None and actor.role_in(site.enterprise_id) is not None:
        require_enterprise_writer(actor, site.enterprise_id)
    if site is None or not can_write_enterprise(actor, site.enterprise_id):
        fail("site_id", _("Choose one of your enterprise's sites."))
    if not site.enterprise.is_utiliser:
        fail("site_id", _("Only an enterprise registered as a utiliser can post demands."))
    return site


def _codes(raw) -> list[str]:
    wanted = sorted({str(code).strip().upper() for code in (raw or []) if str(code).strip()})
    if not wanted:
        fail("accepts", _("Choose at least one waste code."))
    known = set(db.session.scalars(select(WasteCategory.sw_code).where(WasteCategory.active.is_(True))))
    if not set(wanted) <= known:
        fail("accepts", _("Unknown waste code."))
    return wanted


def _route(raw, codes: list[str]) -> Route:
    route = db.session.scalar(select(Route).where(Route.key == str(raw or "")))
    if route is None or not route.active or route.kind is not RouteKind.UTILISATION:
        fail("route_key", _("Choose a utilisation route."))
    if not any(route.fits(code) for code in codes):
        fail("route_key", _("This route fits none of the accepted waste codes."))
    return route


def _classes(raw) -> list[str]:
    classes = sorted({str(c) for c in (raw or [])})
    if not classes or not set(classes) <= {c.value for c in GbClass}:
        fail("accepts_class", _("Choose at least one GB 18599 class."))
    return classes


def _limits(raw) -> list[DemandLimit]:
    attributes = {a.key: a for a in catalog.attributes()}
    limits = []
    for key, bounds in (raw or {}).items():
        attribute = attributes.get(key)
        if attribute is None or not isinstance(bounds, dict):
            fail(f"limits.{str(key)[:40]}", _("Unknown quality attribute."))
        low, high = (None if terms.blank(bounds.get(side)) else terms.decimal_in(
            bounds.get(side), f"limits.{key}.{side}", attribute.min_value, attribute.max_value, attribute.unit)
            for side in ("min", "max"))
        if low is not None and high is not None and low > high:
            fail(f"limits.{key}.max", _("The maximum cannot be below the minimum."))
        if low is not None or high is not None:
            limits.append(DemandLimit(attribute=attribute, min_value=low, max_value=high))
    return limits


def _demand_values(actor: User, data: dict) -> dict:
    site = _writable_site(actor, data.get("site_id"))
    codes = _codes(data.get("accepts"))
    return {"site_id": site.id, "enterprise_id": site.enterprise_id, "accepts_class": _classes(data.get("accepts_class")),
            "route_id": _route(data.get("route_key"), codes).id, **_terms(data, km_required=True),
            "codes": [DemandCode(sw_code=code) for code in codes], "limits": _limits(data.get("limits"))}


def create_demand(actor: User, data: dict) -> Demand:
    """A utiliser asks for waste at one of its sites, with codes, route, classes and limits."""
    values = _demand_values(actor, data)
    demand = Demand(status=DRAFT, created_by_id=actor.id, total_kg=None)
    _apply(demand, values)
    db.session.add(demand)
    record(actor, "demand.created", demand, enterprise_id=demand.enterprise_id, title=demand.title,
           total_kg=demand.total_kg)
    return demand


def update_demand(actor: User, demand_id: int, data: dict) -> Demand:
    """Change a demand; unnamed fields keep their value. The site may move within the enterprise."""
    demand = get_demand(actor, demand_id)
    require_changeable(actor, demand)
    values = _demand_values(actor, demand_input(demand) | data)
    if values["enterprise_id"] != demand.enterprise_id:
        fail("site_id", _("Choose one of your enterprise's sites."))
    _apply(demand, values)
    record(actor, "demand.updated", demand, enterprise_id=demand.enterprise_id, total_kg=demand.total_kg)
    return demand


def demand_input(demand: Demand) -> dict:
    limits = {limit.attribute.key: {"min": limit.min_value, "max": limit.max_value} for limit in demand.limits}
    return {**_input_terms(demand), "site_id": demand.site_id, "accepts": demand.accepts,
            "accepts_class": list(demand.accepts_class), "route_key": demand.route.key, "limits": limits}


# Status -------------------------------------------------------------------------

REFUSED = {
    "publish": lambda: _("Only a draft or paused listing can be published."),
    "pause": lambda: _("Only an open listing can be paused."),
    "close": lambda: _("This listing is already closed."),
}


def change_status(actor: User, listing: Offer | Demand, action: str) -> Offer | Demand:
    """Publish, pause or close; publishing needs a verified enterprise."""
    starts, target = TRANSITIONS[action]
    require_enterprise_writer(actor, listing.enterprise_id)
    if listing.status not in starts:
        raise InvalidTransition(REFUSED[action]())
    if action == "publish" and not listing.enterprise.is_verified:
        raise NotVerified(_("Only verified enterprises can publish. The listing stays a draft until a "
                            "platform admin has verified your enterprise."))
    listing.status = target
    if target is OPEN and listing.published_at is None:
        listing.published_at = utcnow()
    record(actor, f"{listing.__tablename__}.{action}", listing, enterprise_id=listing.enterprise_id)
    return listing


def offer_action(actor: User, offer_id: int, action: str) -> Offer:
    return change_status(actor, get_offer(actor, offer_id), action)


def demand_action(actor: User, demand_id: int, action: str) -> Demand:
    return change_status(actor, get_demand(actor, demand_id), action)
