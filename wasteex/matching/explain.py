"""Why a demand got what it got: the offers it could have used, and where they went.

Traders ask "that offer is 12 km from my plant, why does it go 80 km away?".
The answer is the price of forcing it: pushing one kilogram from offer i to
demand j and letting the rest of the market re-arrange optimally costs
``cost(i,j) + dist(j → i)``, the cheapest way back from j to i in the
residual graph of the optimum (metres per kg, i.e. extra tonne-km per
tonne). It is never negative — that is what optimal means. A price of the
order of the big-M one says the move would lose matched tonnes elsewhere
(tonnes come first). One shortest-path run from the demand prices all its
offers. The path is searched in the solved candidate network: exact for a
dense solve; for a sparse one an upper bound (the full market might re-route
a little more cheaply), never below the pair's reduced cost. The node
potentials (duals) alone give only that lower bound, which can be 0 for a
move that in fact costs tonnes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wasteex.matching import geodesy, pricing
from wasteex.matching.arrays import Arrays
from wasteex.matching.problem import Problem, Result, incompatibility


@dataclass(frozen=True)
class OfferView:
    """One offer seen from one demand."""

    offer_id: str
    km: float
    allocated_tonnes: float  # to this demand
    elsewhere: tuple[tuple[str, float, float], ...]  # (demand id, tonnes, km) of its other uses
    spare_tonnes: float  # what the offer still has unallocated
    extra_tonne_km_per_tonne: float | None  # reduced cost; None when not compatible
    kind: str  # incompatible | allocated | full | lose_tonnes | costlier | tie: for translated wording
    reason: str  # the same in English words (match-file, logs)


def explain(problem: Problem, result: Result, demand: int | str, *, limit: int = 5) -> list[OfferView]:
    """The demand's allocations, then its ``limit`` nearest compatible offers used elsewhere.

    Incompatible offers nearer than the last one listed are included with the
    rule that excludes them, so "why not that one next door?" is answered too.
    """
    j = demand if isinstance(demand, int) else [d.id for d in problem.demands].index(demand)
    target = problem.demands[j]
    arrays = Arrays(problem)
    metres = geodesy.geodesic_m(
        arrays.offer_lat, arrays.offer_lon, np.full(arrays.n_offers, target.lat), np.full(arrays.n_offers, target.lon)
    )
    back = _distances_back(arrays, result, j)
    uses = _uses_by_offer(result)
    allocated = {a.offer for a in result.allocations if a.demand == j}
    views, seen, near, barred = [], set(), 0, 0
    for i in np.argsort(metres, kind="stable").tolist():
        why_not = incompatibility(problem.offers[i], target, float(metres[i]))
        if i in allocated or (why_not is None and near < limit) or (why_not and near < limit and barred < limit):
            views.append(_view(problem, result, back, i, j, float(metres[i]), why_not, uses))
            seen.add(i)
            near += i not in allocated and why_not is None
            barred += why_not is not None
        if near >= limit and allocated <= seen:
            break
    return views


def potentials_of(arrays: Arrays, result: Result) -> np.ndarray:
    """The optimum's node potentials (computed now if the solver did not need them)."""
    if result.potentials is not None:
        return result.potentials
    pairs, flow = result.network
    return pricing.potentials(arrays, pairs, flow)


def _distances_back(arrays: Arrays, result: Result, j: int) -> np.ndarray:
    """Residual shortest-path distances from demand ``j`` to every node (candidate network)."""
    pairs, flow = result.network
    n, tails, heads, costs = pricing.residual_graph(arrays, pairs, flow)
    return pricing.shortest_distances(n, tails, heads, costs, arrays.n_offers + j)


def _uses_by_offer(result: Result) -> dict[int, list[tuple[int, int, int]]]:
    uses: dict[int, list[tuple[int, int, int]]] = {}
    for a in result.allocations:
        uses.setdefault(a.offer, []).append((a.demand, a.kg, a.metres))
    return uses


def _view(problem, result, back, i, j, metres, why_not, uses) -> OfferView:
    offer = problem.offers[i]
    mine = uses.get(i, [])
    here = sum(kg for d, kg, _ in mine if d == j)
    others = tuple(
        (problem.demands[d].id, kg / 1000, m / 1000) for d, kg, m in sorted(mine, key=lambda u: u[2]) if d != j
    )
    spare = offer.kg - sum(kg for _, kg, _ in mine)
    extra = None
    if why_not is None:
        forced = round(metres) + back[i]  # inf: no way to make room for it
        extra = max(float(forced), 0.0) / 1000
    return OfferView(
        offer_id=offer.id,
        km=round(metres / 1000, 3),
        allocated_tonnes=here / 1000,
        elsewhere=others,
        spare_tonnes=spare / 1000,
        extra_tonne_km_per_tonne=extra,
        **_reason(problem, result, j, here, spare, others, why_not, extra),
    )


def _reason(problem, result, j, here, spare, others, why_not, extra) -> dict[str, str]:
    if why_not is not None:
        return {"kind": "incompatible", "reason": f"not compatible: {why_not}"}
    if here:
        return {"kind": "allocated", "reason": "allocated here"}
    demand = problem.demands[j]
    served = sum(a.kg for a in result.allocations if a.demand == j)
    if spare and served >= demand.kg:
        return {"kind": "full",
                "reason": "this demand is already full with supply that costs the market less tonne-km"}
    where = ", ".join(f"{d} ({t:g} t at {km:.1f} km)" for d, t, km in others[:3])
    if extra is not None and extra * 1000 >= result.big_m / 2:  # inf included
        return {"kind": "lose_tonnes",
                "reason": f"its tonnes went to {where}; taking them would lose matched tonnes elsewhere"}
    if not extra:
        return {"kind": "tie", "reason": f"its tonnes went to {where}; bringing them here would cost the market "
                                         "nothing more (a tie)"}
    return {"kind": "costlier", "reason": f"its tonnes went to {where}; bringing them here would cost the market "
                                          f"about {extra:.1f} t·km more per tonne moved"}
