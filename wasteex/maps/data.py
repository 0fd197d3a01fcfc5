"""What the market map shows: open listings the actor may see, as points at their sites.

Rows come from the browse rules (``market.search.conditions``, whose ``visible`` is the
SQL form of ``market.service.can_see``), restricted to open listings with tonnes left;
``can_see`` is checked again on every row, so the map can never show more than the
listing pages would open.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, selectinload

from wasteex.accounts.models import User
from wasteex.extensions import db
from wasteex.geo import DIVISIONS
from wasteex.ledger.rates import kg_to_tonnes_str
from wasteex.market import search, service
from wasteex.market.models import Demand, Offer
from wasteex.market.search import ListingFilter
from wasteex.numbers import plain
from wasteex.templating import division_name

KINDS = ("offer", "demand")
MAX_POINTS = 2000  # per kind; the largest remaining tonnages first


@dataclass
class MapListings:
    offers: list[Offer]
    demands: list[Demand]
    truncated: bool


def kinds_of(raw: str | None) -> tuple[str, ...]:
    """``offer``, ``demand`` or (anything else) both."""
    return (raw,) if raw in KINDS else KINDS


def _open_listings(actor: User, model, flt: ListingFilter, limit: int) -> tuple[list, bool]:
    flt = replace(flt, status="open", near=None, within_km=None)  # distance filters belong to the list view
    stmt = (search.base_query(model, model)
            .where(*search.conditions(actor, model, flt), model.remaining_kg > 0)
            .options(contains_eager(model.site), contains_eager(model.enterprise))
            .order_by(model.remaining_kg.desc(), model.id.asc())
            .limit(limit + 1))
    if model is Demand:
        stmt = stmt.options(selectinload(Demand.codes))
    rows = [row for row in db.session.scalars(stmt).unique() if service.can_see(actor, row)]
    return rows[:limit], len(rows) > limit


def map_listings(actor: User, flt: ListingFilter, kinds: tuple[str, ...], limit: int = MAX_POINTS) -> MapListings:
    offers, more_offers = _open_listings(actor, Offer, flt, limit) if "offer" in kinds else ([], False)
    demands, more_demands = _open_listings(actor, Demand, flt, limit) if "demand" in kinds else ([], False)
    return MapListings(offers, demands, more_offers or more_demands)


def _price(listing: Offer | Demand) -> str:
    price = listing.price_per_t
    if price < 0:
        return _("Gate fee %(p)s yuan/t", p=plain(-price))
    return _("%(p)s yuan/t", p=plain(price))


def point(listing: Offer | Demand) -> dict:
    """One listing as the map draws it (tonnes as text for people, as a number for the symbol size)."""
    is_offer = isinstance(listing, Offer)
    site = listing.site
    return {
        "kind": "offer" if is_offer else "demand",
        "id": listing.id,
        "title": listing.title,
        "enterprise": listing.enterprise.name,
        "sw": listing.sw_code if is_offer else " ".join(listing.accepts),
        "tonnes": kg_to_tonnes_str(listing.remaining_kg),
        "t": listing.remaining_kg / 1000,
        "price": _price(listing),
        "banner": site.division_code,
        "lon": float(site.longitude),
        "lat": float(site.latitude),
        "url": url_for("market.offer", offer_id=listing.id) if is_offer
        else url_for("market.demand", demand_id=listing.id),
    }


def banners() -> dict[str, str]:
    """Division code → its name in the current language (the GeoJSON's own names are Chinese)."""
    return {code: division_name(code) for code in DIVISIONS}


def payload(found: MapListings) -> dict:
    return {
        "points": [point(o) for o in found.offers] + [point(d) for d in found.demands],
        "counts": {"offer": len(found.offers), "demand": len(found.demands)},
        "truncated": found.truncated,
        "limit": MAX_POINTS,
        "banners": banners(),
    }
