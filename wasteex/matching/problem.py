"""The matching problem in plain data: offers, demands, allocations, results.

Quantities are integer kilograms (STYLE §8) so that results are exact to the
kilogram; tonnes and kilometres exist only at the edges (JSON, display).
Distances are integer metres, rounded once per pair, and the objective is
kilogram-metres, so "tonne-km" is that integer divided by 10⁶.

The compatibility rules live here in scalar form, as the reference the
vectorised filter in :mod:`candidates` must agree with (a unit test checks
that they do); :func:`incompatibility` also says *why*, for explanations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

KG_PER_TONNE = 1000


@dataclass(frozen=True, slots=True)
class Limit:
    """A demand's bound on one quality attribute; ``None`` means unbounded."""

    min: float | None = None
    max: float | None = None

    def admits(self, value: float | None) -> bool:
        """An unknown value never satisfies a limit: the buyer asked for proof."""
        if value is None:
            return False
        if self.min is not None and value < self.min:
            return False
        return self.max is None or value <= self.max


@dataclass(frozen=True, slots=True)
class Offer:
    """Tonnage of one waste stream on offer at one site."""

    id: str
    sw_code: str
    kg: int
    lat: float
    lon: float
    waste_class: str | None = None
    quality: Mapping[str, float] = field(default_factory=dict)
    max_km: float | None = None
    owner: str | None = None  # the enterprise: an enterprise does not trade with itself

    @property
    def tonnes(self) -> float:
        return self.kg / KG_PER_TONNE


@dataclass(frozen=True, slots=True)
class Demand:
    """A consumer's capacity for some waste codes, with optional limits."""

    id: str
    accepts: frozenset[str]
    kg: int
    lat: float
    lon: float
    accepts_class: frozenset[str] | None = None
    limits: Mapping[str, Limit] = field(default_factory=dict)
    max_km: float | None = None
    owner: str | None = None

    @property
    def tonnes(self) -> float:
        return self.kg / KG_PER_TONNE


@dataclass(frozen=True, slots=True)
class Problem:
    offers: tuple[Offer, ...]
    demands: tuple[Demand, ...]

    @classmethod
    def of(cls, offers: Sequence[Offer], demands: Sequence[Demand]) -> "Problem":
        return cls(tuple(offers), tuple(demands))


@dataclass(frozen=True, slots=True)
class Allocation:
    """Kilograms moved from one offer to one demand, over ``metres`` of road-free geodesic."""

    offer: int  # index into Problem.offers
    demand: int  # index into Problem.demands
    offer_id: str
    demand_id: str
    kg: int
    metres: int

    @property
    def tonnes(self) -> float:
        return self.kg / KG_PER_TONNE

    @property
    def km(self) -> float:
        return self.metres / 1000


@dataclass(frozen=True)
class Result:
    """An optimal allocation, with what is needed to explain it.

    ``optimal`` is True only when optimality for the *full* compatible set is
    proven: either every compatible pair was in the solved network, or no pair
    outside it has a negative reduced cost against ``potentials``.
    ``potentials`` (metres per kg; index offers, then demands, then the source
    and sink) are node duals of the lexicographic problem, with the big-M
    "unmatched" price folded in; ``None`` if they were not needed
    (:func:`explain.potentials_of` computes them on demand from ``network``).
    """

    allocations: tuple[Allocation, ...]
    matched_kg: int
    cost_kg_m: int
    unmatched_offer_kg: int
    unmet_demand_kg: int
    optimal: bool
    seconds: float
    candidate_pairs: int
    rounds: int  # OR-Tools min-cost solves
    strategy: str
    potentials: object = None  # numpy array or None
    big_m: float = 0.0
    network: object = None  # (arrays.Pairs, flow per pair): the solved candidate set

    @property
    def tonne_km(self) -> float:
        return self.cost_kg_m / 1_000_000

    @property
    def matched_tonnes(self) -> float:
        return self.matched_kg / KG_PER_TONNE


def incompatibility(offer: Offer, demand: Demand, metres: float) -> str | None:
    """Why ``offer`` cannot serve ``demand`` at this distance, or None if it can.

    The rules, in the order a trader would check them: the same owner (an
    enterprise's own use is not a trade), waste code, hazard class, each
    quality limit (a missing value fails), then both sides' maximum distance.
    """
    if offer.owner is not None and offer.owner == demand.owner:
        return f"same enterprise {offer.owner}"
    if offer.sw_code not in demand.accepts:
        return f"code {offer.sw_code} not accepted"
    if demand.accepts_class is not None:
        if offer.waste_class is None:
            return "class unknown, demand restricts classes"
        if offer.waste_class not in demand.accepts_class:
            return f"class {offer.waste_class} not accepted"
    for name, limit in sorted(demand.limits.items()):
        value = offer.quality.get(name)
        if not limit.admits(value):
            return f"quality {name}={value} outside limit" if value is not None else f"quality {name} unknown"
    for side, max_km in (("demand", demand.max_km), ("offer", offer.max_km)):
        if max_km is not None and metres > max_km * 1000:
            return f"{metres / 1000:.1f} km beyond the {side}'s {max_km:g} km"
    return None


def is_compatible(offer: Offer, demand: Demand, metres: float) -> bool:
    return incompatibility(offer, demand, metres) is None
