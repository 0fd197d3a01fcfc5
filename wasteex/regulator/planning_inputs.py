"""The planner's inputs read from the database: producer streams' coming year and utilisers' spare capacity.

See :mod:`wasteex.regulator.planner` for the method; this module only turns
rows into its plain :class:`~wasteex.regulator.planner.Source` and
:class:`~wasteex.regulator.planner.Sink` values.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wasteex.enterprises.models import Enterprise, EnterpriseStatus
from wasteex.extensions import db
from wasteex.ledger.rates import FlowTotals
from wasteex.market.models import Demand, ListingStatus, Offer, Supply
from wasteex.market.recommend import pure_demand
from wasteex.regulator.models import UtilisationCapacity
from wasteex.regulator.planner import Sink, Source
from wasteex.regulator.window import Window, stock_by_stream
from wasteex.streams.models import QualityValue, WasteStream

MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class Inputs:
    window: Window
    sources: list[Source]
    sinks: list[Sink]


def read(today: date) -> Inputs:
    window = Window.before(today)
    return Inputs(window, sources(window), sinks(window))


def annual_kg(listing: Offer | Demand) -> int:
    """What a listing brings in a year: a recurring one's monthly amount × 12, capped by what is left."""
    if listing.supply is Supply.RECURRING and listing.kg_per_month:
        return min(listing.remaining_kg, listing.kg_per_month * MONTHS_PER_YEAR)
    return listing.remaining_kg


def _open(model):
    return (select(model).where(model.status == ListingStatus.OPEN, model.remaining_kg > 0)
            .join(Enterprise, Enterprise.id == model.enterprise_id)
            .where(Enterprise.status == EnterpriseStatus.VERIFIED))


def offered_by_stream() -> dict[int, int]:
    offered: dict[int, int] = defaultdict(int)
    for offer in db.session.scalars(_open(Offer)):
        offered[offer.stream_id] += annual_kg(offer)
    return dict(offered)


def sources(window: Window) -> list[Source]:
    """Every active stream with something to generate or in stock, as next year's supply."""
    flows = window.flows("stream")
    stock = stock_by_stream(window.last)
    offered = offered_by_stream()
    streams = db.session.scalars(
        select(WasteStream).where(WasteStream.active.is_(True))
        .options(selectinload(WasteStream.site), selectinload(WasteStream.enterprise),
                 selectinload(WasteStream.category),
                 selectinload(WasteStream.quality_values).selectinload(QualityValue.attribute))
        .order_by(WasteStream.id))
    found = []
    for stream in streams:
        figures = flows.get((stream.enterprise_id, stream.id), FlowTotals())
        generated = figures.generated or max(stream.expected_annual_kg, offered.get(stream.id, 0))
        stock_kg = max(0, stock.get(stream.id, 0))
        if generated <= 0 and stock_kg <= 0:
            continue
        site = stream.site
        found.append(Source(
            stream_id=stream.id, enterprise_id=stream.enterprise_id, enterprise=stream.enterprise.name,
            site=site.name, sw_code=stream.sw_code, base=site.base.value, division_code=site.division_code,
            lat=float(site.latitude), lon=float(site.longitude), generated_kg=generated,
            used_kg=figures.utilised - figures.utilised_from_prior_storage,
            prior_used_kg=figures.utilised_from_prior_storage, stock_kg=stock_kg,
            waste_class=stream.gb_class.value,
            quality={key: float(value.value) for key, value in stream.latest_quality().items()}))
    return found


def sinks(window: Window) -> list[Sink]:
    """Declared capacities less what their utiliser received; open demands of utilisers that declared none."""
    received = window.received_by_enterprise()
    capacities = db.session.scalars(
        select(UtilisationCapacity).join(Enterprise, Enterprise.id == UtilisationCapacity.enterprise_id)
        .where(Enterprise.status == EnterpriseStatus.VERIFIED)
        .options(selectinload(UtilisationCapacity.site), selectinload(UtilisationCapacity.enterprise))
        .order_by(UtilisationCapacity.id)).all()
    declared: dict[int, int] = defaultdict(int)
    for capacity in capacities:
        declared[capacity.enterprise_id] += capacity.kg_per_year
    found = []
    for capacity in capacities:
        # what the utiliser already takes fills its capacities in proportion to their size
        taken = received.get(capacity.enterprise_id, 0) * capacity.kg_per_year // declared[capacity.enterprise_id]
        spare = capacity.kg_per_year - taken
        if spare > 0:
            found.append(Sink(
                key=f"capacity:{capacity.id}", name=f"{capacity.enterprise.name} · {capacity.site.name}",
                accepts=frozenset(capacity.sw_codes), kg=spare, lat=float(capacity.site.latitude),
                lon=float(capacity.site.longitude), max_km=capacity.max_km, enterprise_id=capacity.enterprise_id))
    demands = db.session.scalars(
        _open(Demand).where(Demand.enterprise_id.not_in(list(declared) or [-1]))
        .options(selectinload(Demand.site), selectinload(Demand.codes), selectinload(Demand.limits),
                 selectinload(Demand.enterprise)).order_by(Demand.id))
    for demand in demands:
        pure = pure_demand(demand)
        found.append(Sink(
            key=f"demand:{demand.id}", name=f"{demand.enterprise.name} · {demand.title}", accepts=pure.accepts,
            kg=annual_kg(demand), lat=pure.lat, lon=pure.lon, max_km=pure.max_km,
            enterprise_id=demand.enterprise_id, accepts_class=pure.accepts_class, limits=pure.limits))
    return found
