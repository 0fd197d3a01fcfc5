"""Tonnage sent from one enterprise to another, and the cockpit map drawn from it.

The monthly totals do not keep the receiver, so flows are summed from the ledger entries
themselves: the sender's entrusted utilisation and entrusted disposal shipments (附表7) per
receiving credit code over the period. A reversing correction carries the negated quantity of
its original, so corrected shipments cancel out. The credit code identifies the receiving
enterprise when it is registered on the platform; its first site places it on the map.
"""
from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from wasteex.accounts.models import User
from wasteex.enterprises.models import Enterprise, Site
from wasteex.extensions import db
from wasteex.ledger.models import EntryKind, LedgerEntry
from wasteex.regulator.queries import CITY, Period, breakdowns, require_cockpit

SHIPMENT_KINDS = (EntryKind.ENTRUSTED_UTILISATION, EntryKind.ENTRUSTED_DISPOSAL)
MAX_MAP_FLOWS = 300  # the largest; more lines than this only blur the map


@dataclass(frozen=True)
class Flow:
    sender_id: int
    receiver_code: str
    receiver_name: str  # as the sender wrote it (the receiver need not be registered here)
    utilised_kg: int
    disposed_kg: int

    @property
    def total_kg(self) -> int:
        return self.utilised_kg + self.disposed_kg


def period_dates(period: Period) -> tuple[date, date]:
    last = period.last_month
    return date(period.year, 1, 1), date(period.year, last, calendar.monthrange(period.year, last)[1])


def flows(actor: User, period: Period, *, sender_id: int | None = None,
          receiver_code: str | None = None) -> list[Flow]:
    """Shipments of the period per (sender, receiving credit code), largest first; nets ≤ 0 left out."""
    require_cockpit(actor)
    e = LedgerEntry
    first, last = period_dates(period)
    stmt = (select(e.enterprise_id, e.counterparty_credit_code, e.kind, func.max(e.counterparty_name),
                   func.sum(e.quantity_kg))
            .where(e.kind.in_(SHIPMENT_KINDS), e.period_date.between(first, last),
                   e.counterparty_credit_code.is_not(None))
            .group_by(e.enterprise_id, e.counterparty_credit_code, e.kind))
    if sender_id is not None:
        stmt = stmt.where(e.enterprise_id == sender_id)
    if receiver_code is not None:
        stmt = stmt.where(e.counterparty_credit_code == receiver_code)
    sums: dict[tuple[int, str], dict] = defaultdict(lambda: {"name": "", EntryKind.ENTRUSTED_UTILISATION: 0,
                                                             EntryKind.ENTRUSTED_DISPOSAL: 0})
    for sender, code, kind, name, kg in db.session.execute(stmt):
        item = sums[(sender, code)]
        item["name"] = max(item["name"], name or "")
        item[kind] += int(kg)
    found = [Flow(sender, code, item["name"], item[EntryKind.ENTRUSTED_UTILISATION],
                  item[EntryKind.ENTRUSTED_DISPOSAL]) for (sender, code), item in sums.items()]
    return sorted((f for f in found if f.total_kg > 0), key=lambda f: (-f.total_kg, f.sender_id, f.receiver_code))


# The map ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    enterprise: Enterprise
    lon: float
    lat: float


@dataclass(frozen=True)
class MapPoint:
    kind: str  # "producer" (sized by generation) or "utiliser" (sized by what it received)
    place: Place
    kg: int
    rate: Decimal | None = None


@dataclass(frozen=True)
class MapFlow:
    sender: Place
    receiver: Place
    flow: Flow


@dataclass
class CockpitMap:
    banner_rates: dict[str, Decimal | None]
    points: list[MapPoint]
    flows: list[MapFlow]
    flows_total: int  # how many located flows there were before keeping the largest


def _places(enterprise_ids: set[int]) -> dict[int, Place]:
    """Each enterprise at its first site (sites without coordinates do not exist: they are required)."""
    if not enterprise_ids:
        return {}
    rows = db.session.execute(
        select(Enterprise, Site).join(Site, Site.enterprise_id == Enterprise.id)
        .where(Enterprise.id.in_(enterprise_ids)).order_by(Site.enterprise_id, Site.id)).all()
    places: dict[int, Place] = {}
    for enterprise, site in rows:
        places.setdefault(enterprise.id, Place(enterprise, float(site.longitude), float(site.latitude)))
    return places


def cockpit_map(actor: User, period: Period, max_flows: int = MAX_MAP_FLOWS) -> CockpitMap:
    """Banners coloured by rate, producers and utilisers at their sites, the period's flows between them."""
    require_cockpit(actor)
    tables = breakdowns(actor, CITY, period, ("division", "enterprise"))
    banners = {row.key: row.rate for row in tables["division"]}
    producers = [row for row in tables["enterprise"] if row.totals.generated > 0]
    shipments = flows(actor, period)
    codes = {f.receiver_code for f in shipments}
    receiver_ids = dict(db.session.execute(select(Enterprise.credit_code, Enterprise.id)
                                           .where(Enterprise.credit_code.in_(codes or [""]))).all())
    places = _places({row.key for row in producers} | {f.sender_id for f in shipments} | set(receiver_ids.values()))

    points = [MapPoint("producer", places[row.key], row.totals.generated, row.rate)
              for row in producers if row.key in places]
    received: dict[int, int] = defaultdict(int)
    located = []
    for flow in shipments:
        receiver = places.get(receiver_ids.get(flow.receiver_code, -1))
        if receiver is None:
            continue
        received[receiver.enterprise.id] += flow.total_kg
        if flow.sender_id in places:
            located.append(MapFlow(places[flow.sender_id], receiver, flow))
    points += [MapPoint("utiliser", places[eid], kg) for eid, kg in sorted(received.items())]
    return CockpitMap(banners, points, located[:max_flows], len(located))
