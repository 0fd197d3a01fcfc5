"""The capacity-gap planner — pure: attainable utilisation, the capacity missing to 80 %, and where.

Inputs are plain data (no Flask, no SQLAlchemy); :mod:`wasteex.regulator.scenarios`
reads them from the ledger, the market and the declared capacities.

The method, for the coming year:

1. **Supply.** Each producer stream (:class:`Source`) expects to generate what
   it generated over the last 12 complete months (its ledger; a stream
   without ledger figures uses the larger of its inventory's expected t/yr
   and its open offers, recurring ones annualised). What it utilised over
   those months — itself or through other enterprises — is taken as already
   used and stays used; so is what it drew from prior years' storage.
   The rest of its generation is *to place*, and so is its stock in storage
   (less what it already draws from it each year).
2. **Spare capacity** (:class:`Sink`): each utiliser site's declared capacity
   less what that utiliser received over the same months; a utiliser that
   declared nothing is represented by its open demands (annualised). Scenarios
   add hypothetical utilisers.
3. **Matching**, with the platform's matcher (:func:`wasteex.matching.solver.solve`:
   most tonnes, then fewest tonne-km, proven optimal; codes, classes,
   quality limits, distances and "no enterprise trades with itself" all
   apply) in two stages: new generation first, then stock into what capacity
   is left — a tonne of new generation raises the rate more than a tonne from
   storage, which also enters the denominator.
4. **Rates** with the official formula per demonstration base × SW code and
   for every group: attainable = (used + matched) ÷ (generated + utilised from
   storage). The **capacity needed** to reach the target is the fewest extra
   tonnes of utilisation that lift a group's attainable rate to it, taking the
   unplaced new generation first (each tonne adds 1 to the numerator) and then
   stock (each adds 1 − target, as it also enters the denominator); when even
   all of both would not do, the group is marked unreachable. A group row's
   figure brings the group *as a whole* to the target, so it can be smaller
   than the sum of its cells.
5. **Locations**: where a cell lacks capacity, its unplaced tonnes are grouped
   by banner; each banner's tonnage-weighted centre of its producer sites is a
   candidate site for a plant, ranked by the tonnes within reach, with the
   producer sites holding the most unplaced tonnes named.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Mapping, Sequence

from wasteex.ledger.rates import utilisation_rate
from wasteex.matching import problem
from wasteex.matching.solver import solve

TARGET = Decimal("0.8")
TOP_SITES = 3  # producer sites named per candidate location


@dataclass(frozen=True, slots=True)
class Source:
    """One producer stream's coming year, in kg."""

    stream_id: int
    enterprise_id: int
    enterprise: str
    site: str
    sw_code: str
    base: str
    division_code: str
    lat: float
    lon: float
    generated_kg: int
    used_kg: int = 0  # utilised out of the year's own generation (self + entrusted)
    prior_used_kg: int = 0  # utilised out of prior years' storage
    stock_kg: int = 0  # in storage at the start of the year
    waste_class: str | None = None
    quality: Mapping[str, float] = field(default_factory=dict)

    @property
    def new_to_place_kg(self) -> int:
        return max(0, self.generated_kg - self.used_kg)

    @property
    def stock_to_place_kg(self) -> int:
        return max(0, self.stock_kg - self.prior_used_kg)


@dataclass(frozen=True, slots=True)
class Sink:
    """Spare utilisation capacity at one place for the coming year."""

    key: str
    name: str
    accepts: frozenset[str]
    kg: int
    lat: float
    lon: float
    max_km: float | None
    enterprise_id: int | None = None  # None: a hypothetical utiliser
    accepts_class: frozenset[str] | None = None
    limits: Mapping[str, problem.Limit] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Figures:
    """Sums over a group of sources after matching (kg)."""

    generated: int = 0
    used: int = 0  # already utilised: new generation plus prior storage
    prior_used: int = 0
    matched_new: int = 0
    matched_stock: int = 0
    new_left: int = 0
    stock_left: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(_values(self), _values(other))))

    @property
    def attainable(self) -> int:
        return self.used + self.matched_new + self.matched_stock

    @property
    def denominator(self) -> int:
        return self.generated + self.prior_used + self.matched_stock

    @property
    def rate_now(self) -> Decimal | None:
        return utilisation_rate(self.used, self.generated, self.prior_used)

    @property
    def rate_attainable(self) -> Decimal | None:
        return utilisation_rate(self.attainable, self.generated, self.prior_used + self.matched_stock)


def _values(figures: Figures) -> tuple[int, ...]:
    return (figures.generated, figures.used, figures.prior_used, figures.matched_new, figures.matched_stock,
            figures.new_left, figures.stock_left)


def capacity_needed(figures: Figures, target: Decimal = TARGET) -> tuple[int, bool]:
    """(extra kg of utilisation a year, reachable) to lift ``figures`` to ``target``.

    New generation first: x kg of it add x to the numerator; y kg of stock add
    y to both sides, so they close (1 − target)·y of the shortfall.
    """
    if not Decimal(0) < target < Decimal(1):
        raise ValueError(f"target must lie strictly between 0 and 1, got {target}")
    short = target * figures.denominator - figures.attainable
    if short <= 0:
        return 0, True
    if short <= figures.new_left:
        return math.ceil(short), True
    from_stock = math.ceil((short - figures.new_left) / (1 - target))
    if from_stock <= figures.stock_left:
        return figures.new_left + from_stock, True
    return figures.new_left + figures.stock_left, False


@dataclass(frozen=True)
class Placed:
    """What matching did for one source, and for each sink."""

    new: dict[int, int]  # stream id → kg of new generation matched
    stock: dict[int, int]  # stream id → kg of stock matched
    sink_used: dict[str, int]  # sink key → kg
    matched_kg: int
    seconds: float
    optimal: bool


def place(sources: Sequence[Source], sinks: Sequence[Sink]) -> Placed:
    """Match new generation into the sinks, then stock into what is left of them."""
    sink_used: dict[str, int] = defaultdict(int)
    stages = []
    for amount in (lambda s: s.new_to_place_kg, lambda s: s.stock_to_place_kg):
        offers = [_offer(s, amount(s)) for s in sources if amount(s) > 0]
        demands = [_demand(k, k.kg - sink_used[k.key]) for k in sinks if k.kg > sink_used[k.key]]
        result = solve(problem.Problem.of(offers, demands))
        matched: dict[int, int] = defaultdict(int)
        for allocation in result.allocations:
            matched[int(allocation.offer_id)] += allocation.kg
            sink_used[allocation.demand_id] += allocation.kg
        stages.append((dict(matched), result))
    (new, first), (stock, second) = stages
    return Placed(new, stock, dict(sink_used), first.matched_kg + second.matched_kg,
                  first.seconds + second.seconds, first.optimal and second.optimal)


def _offer(source: Source, kg: int) -> problem.Offer:
    return problem.Offer(id=str(source.stream_id), sw_code=source.sw_code, kg=kg, lat=source.lat, lon=source.lon,
                         waste_class=source.waste_class, quality=source.quality, owner=str(source.enterprise_id))


def _demand(sink: Sink, kg: int) -> problem.Demand:
    return problem.Demand(id=sink.key, accepts=sink.accepts, kg=kg, lat=sink.lat, lon=sink.lon,
                          accepts_class=sink.accepts_class, limits=sink.limits, max_km=sink.max_km,
                          owner=None if sink.enterprise_id is None else str(sink.enterprise_id))


def figures_of(source: Source, placed: Placed) -> Figures:
    new, stock = placed.new.get(source.stream_id, 0), placed.stock.get(source.stream_id, 0)
    return Figures(generated=source.generated_kg, used=min(source.used_kg, source.generated_kg) + source.prior_used_kg,
                   prior_used=source.prior_used_kg, matched_new=new, matched_stock=stock,
                   new_left=source.new_to_place_kg - new, stock_left=source.stock_to_place_kg - stock)


def plan(sources: Sequence[Source], sinks: Sequence[Sink], target: Decimal = TARGET) -> dict:
    """The plan as JSON-ready data: figures per base × code, per base, per code, the city; locations."""
    placed = place(sources, sinks)
    per_source = [(s, figures_of(s, placed)) for s in sources]
    cells = _group(per_source, lambda s: (s.base, s.sw_code))
    return {
        "target": str(target),
        "cells": [_row({"base": b, "sw_code": c}, f, target) for (b, c), f in sorted(cells.items())],
        "bases": [_row({"base": b}, f, target)
                  for (b,), f in sorted(_group(per_source, lambda s: (s.base,)).items())],
        "codes": [_row({"sw_code": c}, f, target)
                  for (c,), f in sorted(_group(per_source, lambda s: (s.sw_code,)).items())],
        "city": _row({}, sum((f for _s, f in per_source), Figures()), target),
        "locations": locations(per_source, cells, target),
        "sinks": [{"key": k.key, "name": k.name, "hypothetical": k.enterprise_id is None, "kg": k.kg,
                   "used_kg": placed.sink_used.get(k.key, 0), "lat": k.lat, "lon": k.lon}
                  for k in sinks],
        "matcher": {"matched_kg": placed.matched_kg, "seconds": round(placed.seconds, 3), "optimal": placed.optimal,
                    "sources": len(sources), "sinks": len(sinks)},
    }


def _group(per_source: Iterable[tuple[Source, Figures]], key) -> dict[tuple, Figures]:
    groups: dict[tuple, Figures] = defaultdict(Figures)
    for source, figures in per_source:
        groups[key(source)] += figures
    return dict(groups)


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _row(keys: dict, figures: Figures, target: Decimal) -> dict:
    needed, reachable = capacity_needed(figures, target)
    return {**keys, "generated_kg": figures.generated, "used_kg": figures.used, "prior_used_kg": figures.prior_used,
            "matched_new_kg": figures.matched_new, "matched_stock_kg": figures.matched_stock,
            "new_left_kg": figures.new_left, "stock_left_kg": figures.stock_left,
            "attainable_kg": figures.attainable, "denominator_kg": figures.denominator,
            "rate_now": _rate(figures.rate_now), "rate_attainable": _rate(figures.rate_attainable),
            "needed_kg": needed, "reachable": reachable}


def locations(per_source: Sequence[tuple[Source, Figures]], cells: Mapping[tuple, Figures],
              target: Decimal = TARGET) -> list[dict]:
    """Candidate plant locations for every base × code that lacks capacity, best first within it."""
    short = {key for key, figures in cells.items() if capacity_needed(figures, target)[0] > 0}
    banners: dict[tuple, list[tuple[Source, int]]] = defaultdict(list)
    for source, figures in per_source:
        left = figures.new_left + figures.stock_left
        if (source.base, source.sw_code) in short and left > 0:
            banners[(source.base, source.sw_code, source.division_code)].append((source, left))
    found = []
    for (base, code, division), held in banners.items():
        total = sum(kg for _s, kg in held)
        held.sort(key=lambda item: (-item[1], item[0].stream_id))
        found.append({
            "base": base, "sw_code": code, "division_code": division, "unplaced_kg": total,
            "lat": round(sum(s.lat * kg for s, kg in held) / total, 5),
            "lon": round(sum(s.lon * kg for s, kg in held) / total, 5),
            "sites": [{"enterprise_id": s.enterprise_id, "enterprise": s.enterprise, "site": s.site,
                       "stream_id": s.stream_id, "lat": s.lat, "lon": s.lon, "unplaced_kg": kg}
                      for s, kg in held[:TOP_SITES]],
        })
    found.sort(key=lambda loc: (loc["base"], loc["sw_code"], -loc["unplaced_kg"], loc["division_code"]))
    return found


def without(sources: Sequence[Source], enterprise_ids: Iterable[int]) -> list[Source]:
    """The sources of every producer but these (a scenario's closed plants leave the city's figures)."""
    removed = set(enterprise_ids)
    return [s for s in sources if s.enterprise_id not in removed]



def side_by_side(baseline: dict, plans: Sequence[dict]) -> list[dict]:
    """Rows to compare plans: the city, each base, each code, with each plan's row for the same group.

    Groups come from the baseline and from every plan (a scenario may add a
    code no producer of the baseline has); a plan without the group gets None.
    """
    def index(plan: dict) -> dict:
        return {("city", ""): plan["city"], **{("base", r["base"]): r for r in plan["bases"]},
                **{("sw_code", r["sw_code"]): r for r in plan["codes"]}}

    indexed = [index(p) for p in (baseline, *plans)]
    keys = list(dict.fromkeys(key for found in indexed for key in found))
    order = {"city": 0, "base": 1, "sw_code": 2}
    keys.sort(key=lambda k: (order[k[0]], k[1]))
    return [{"group": group, "key": key, "baseline": indexed[0].get((group, key)),
             "plans": [found.get((group, key)) for found in indexed[1:]]} for group, key in keys]
