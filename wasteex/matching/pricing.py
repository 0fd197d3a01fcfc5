"""Duals of a solved sub-network, and the arcs outside it that they condemn.

The problem is lexicographic — most tonnes first, then fewest tonne-km — and
OR-Tools solves it as max-flow-then-min-cost. For pricing we fold it into one
min-cost problem: a source ``S`` feeds every offer (capacity = its tonnage),
every demand drains into a sink ``T`` (capacity = its tonnage), and an arc
``S → T`` of cost ``M`` carries whatever stays unmatched. When ``M`` exceeds
the cost of any simple path (at most ``offers × half a meridian``), a flow
is optimal for this big-M network exactly when it is lexicographically
optimal for the original one. We take four times that, so the two levels of
potentials below can never be confused.

Potentials ``π`` = shortest-path distances from ``S`` in the residual graph
of the solved sub-network (Bellman–Ford; the optimum has no negative cycle).
They make every residual arc of that sub-network non-negative in reduced
cost, ``c(u,v) + π(u) − π(v) ≥ 0``. Arcs outside it are offer→demand arcs
with no flow, always residual; so if *every* compatible pair satisfies
``cost(i,j) ≥ π(j) − π(i)``, the same ``π`` proves the flow optimal for the
full market — the certificate behind ``optimal: true``. A pair with
``cost < π(j) − π(i)`` is a violator: it goes into the next round.

``π`` takes values within ``offers × half a meridian`` of 0 (nodes reachable
from ``S`` without ``M``: the max-flow cut's source side) or of ``M``. A pair
from the first level to the second is a violator at any distance — an
augmenting path the sub-network lacked — so the max-flow part of the
certificate comes free; those are found by a complete nearest-neighbour
search across the cut (:func:`augmenting_pairs`). From the second level to
the first, reduced costs are ≈ +M: never violators.

Within a level the search never enumerates the dense pair set: a violator
needs ``chord ≤ geodesic < π(j) − π(i)``, so demands are grouped by ``π``
and each group is a KD-tree ball query around every offer with radius
``max π(group) − π(i)`` (also capped by both sides' ``max_km``).
"""
from __future__ import annotations

from itertools import chain

import numpy as np

from wasteex.matching import geodesy
from wasteex.matching.arrays import RANGE_SLACK_M, Arrays, Pairs, is_member
from wasteex.matching.candidates import nearest_across

GROUPS_PER_CODE = 16


class CertificateError(RuntimeError):
    """No potentials exist: the flow is not optimal on its own candidate arcs."""


class NegativeCycle(CertificateError):
    """The residual graph has a negative cycle through ``nodes`` (improvable flow)."""

    def __init__(self, nodes: np.ndarray):
        super().__init__(f"negative cycle through {len(nodes)} nodes")
        self.nodes = nodes


def big_m(arrays: Arrays) -> float:
    """A price for one unmatched kilogram: 4× any simple path's cost, exact in float64."""
    return float(4 * (arrays.n_offers + 2) * int(geodesy.MAX_GEODESIC_M + 1))


def potentials(arrays: Arrays, pairs: Pairs, flow: np.ndarray) -> np.ndarray:
    """Node potentials (offers, demands, S, T) from Bellman–Ford on the residual graph."""
    n_o, n_d = arrays.n_offers, arrays.n_demands
    source, sink = n_o + n_d, n_o + n_d + 1
    pi = shortest_distances(*residual_graph(arrays, pairs, flow), source)
    # a demand with no arc in yet: only its arc to T binds it (π ≥ π(T)); take the least
    unreached = ~np.isfinite(pi)
    pi[unreached] = pi[sink]
    if unreached[:n_o].any() and (arrays.offer_kg[unreached[:n_o]] > 0).any():
        raise CertificateError("an offer is unreachable in the residual graph")
    return pi


def residual_graph(arrays: Arrays, pairs: Pairs, flow: np.ndarray):
    """Node count, tails, heads and costs of the big-M network's residual arcs.

    Pair arcs are treated as uncapacitated (the tonnages bound them anyway),
    so their forward residual arc always exists.
    """
    n_o, n_d = arrays.n_offers, arrays.n_demands
    source, sink = n_o + n_d, n_o + n_d + 1
    used = np.bincount(pairs.offer, weights=flow, minlength=n_o)
    served = np.bincount(pairs.demand, weights=flow, minlength=n_d)
    offers, demands = np.arange(n_o), n_o + np.arange(n_d)
    has_flow = flow > 0
    spare_o, busy_o = used < arrays.offer_kg, used > 0
    spare_d, busy_d = served < arrays.demand_kg, served > 0
    unmatched = int(used.sum() < arrays.offer_kg.sum())
    m = big_m(arrays)
    arcs = [
        (pairs.offer, n_o + pairs.demand, pairs.cost),
        (n_o + pairs.demand[has_flow], pairs.offer[has_flow], -pairs.cost[has_flow]),
        (np.full(spare_o.sum(), source), offers[spare_o], 0),
        (offers[busy_o], np.full(busy_o.sum(), source), 0),
        (demands[spare_d], np.full(spare_d.sum(), sink), 0),
        (np.full(busy_d.sum(), sink), demands[busy_d], 0),
        ([source], [sink], m),
        ([sink] * unmatched, [source] * unmatched, -m),
    ]
    tails = np.concatenate([np.asarray(t, dtype=np.int64) for t, _, _ in arcs])
    heads = np.concatenate([np.asarray(h, dtype=np.int64) for _, h, _ in arcs])
    costs = np.concatenate(
        [np.broadcast_to(np.asarray(c, dtype=np.float64), np.shape(t)) for t, _, c in arcs]
    )
    return sink + 1, tails, heads, costs


def shortest_distances(n: int, tails, heads, costs, source: int) -> np.ndarray:
    """Bellman–Ford from ``source``, relaxing only arcs out of nodes that just improved.

    Rounds are whole-array numpy passes (Jacobi order), so the cost is the
    shortest-path tree's depth times the arcs it touches — not scipy's
    ``bellman_ford``, which always runs N passes (quadratic: 5 s at 5k×5k).
    Distances stay integers below 2⁵³, hence exact in float64. Every 32
    rounds the predecessor graph is checked for a cycle, which exists only
    if the graph has a negative cycle (:class:`NegativeCycle` names it).
    """
    order = np.argsort(tails, kind="stable")
    tails, heads, costs = tails[order], heads[order], costs[order]
    indptr = np.searchsorted(tails, np.arange(n + 1))
    dist = np.full(n, np.inf)
    dist[source] = 0.0
    pred = np.full(n, -1, dtype=np.int64)
    pred[source] = source
    frontier = np.array([source])
    for rounds in range(1, n + 2):
        starts, counts = indptr[frontier], indptr[frontier + 1] - indptr[frontier]
        total = int(counts.sum())
        if total == 0:
            return dist
        arcs = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        tail, head = tails[arcs], heads[arcs]
        offered = dist[tail] + costs[arcs]
        relaxed = dist.copy()
        np.minimum.at(relaxed, head, offered)
        improved = relaxed < dist
        won = improved[head] & (offered == relaxed[head])
        pred[head[won]] = tail[won]
        frontier, dist = np.flatnonzero(improved), relaxed
        if frontier.size == 0:
            return dist
        if rounds % 32 == 0:
            cycle = _predecessor_cycle(pred, source)
            if cycle is not None:
                raise NegativeCycle(cycle)
    raise NegativeCycle(_predecessor_cycle(pred, source))


def _predecessor_cycle(pred: np.ndarray, source: int) -> np.ndarray | None:
    """Nodes on cycles of the predecessor graph, or None if it is a tree."""
    ancestor = np.where(pred < 0, source, pred)
    for _ in range(int(np.ceil(np.log2(max(pred.size, 2)))) + 1):
        ancestor = ancestor[ancestor]  # 2^k steps up: past every chain, into any cycle
    stuck = np.unique(ancestor[ancestor != source])
    if stuck.size == 0:
        return None
    cycle, seen = [], set()
    for start in stuck[:64].tolist():
        node = start
        while node not in seen:
            seen.add(node)
            cycle.append(node)
            node = int(pred[node])
    return np.array(cycle, dtype=np.int64)


def violating_pairs(
    arrays: Arrays, pi: np.ndarray, pairs: Pairs, per_node: int, margin: float = 0.0
) -> Pairs:
    """Compatible pairs outside ``pairs`` with reduced cost below ``margin``, lowest first.

    With ``margin`` 0 these are the violators, and an empty result is the
    certificate. A positive margin also returns nearly-violating pairs: they
    tend to become violators once the flow moves, so adding them early saves
    solve rounds. At most ``per_node`` per offer and per demand are returned
    (their union), so one round cannot flood the network.
    """
    n_o, n_d = arrays.n_offers, arrays.n_demands
    pi_o, pi_d = pi[:n_o], pi[n_o : n_o + n_d]
    high_o, high_d = pi_o >= big_m(arrays) / 2, pi_d >= big_m(arrays) / 2
    # across the cut (source side offer, sink side demand): a violator at any distance
    found = [augmenting_pairs(arrays, ~high_o, high_d, per_node)]
    known = np.sort(pairs.keys(n_d))
    for offers, demands in zip(arrays.offers_by_code, arrays.demands_by_code):
        for level in (False, True):
            level_offers = offers[high_o[offers] == level]
            level_demands = demands[high_d[demands] == level]
            if level_offers.size and level_demands.size:
                found.append(
                    _priced(arrays, level_offers, level_demands, pi_o, pi_d + margin, known)
                )
    candidates = Pairs.concat(found)
    reduced = candidates.cost + pi_o[candidates.offer] - pi_d[candidates.demand]
    return _most_violated(candidates.take(reduced < margin), reduced[reduced < margin], per_node)


def augmenting_pairs(arrays: Arrays, offer_side, demand_side, per_node: int) -> Pairs:
    """Compatible pairs from the source side of a cut to its sink side (a few per demand).

    Each is an augmenting path the candidate network lacked. The search is
    complete, so an empty answer proves the cut — hence the flow — maximal.
    """
    if not offer_side.any() or not demand_side.any():
        return Pairs.empty()
    return nearest_across(arrays, offer_side, demand_side, per_node, from_offers=False)


def _priced(arrays: Arrays, offers, demands, pi_o, ceiling_d, known) -> Pairs:
    """Pairs among these offers and demands with ``cost < ceiling(j) − π(i)``, not yet known."""
    found = []
    for group in _groups(demands, ceiling_d):
        i, j = _ball_pairs(arrays, offers, group, pi_o, ceiling_d)
        fresh = ~is_member(known, i * arrays.n_demands + j)
        i, j = i[fresh], j[fresh]
        found.append(arrays.compatible_pairs(i, j, cheap_bound_m=ceiling_d[j] - pi_o[i]))
    return Pairs.concat(found)


def _groups(demands: np.ndarray, ceiling_d: np.ndarray) -> list[np.ndarray]:
    """Demands in runs of similar potential: each run gets one ball radius per offer."""
    order = demands[np.argsort(ceiling_d[demands], kind="stable")]
    size = max(32, -(-order.size // GROUPS_PER_CODE))
    return [order[s : s + size] for s in range(0, order.size, size)]


def _ball_pairs(arrays: Arrays, offers, group, pi_o, ceiling_d) -> tuple[np.ndarray, np.ndarray]:
    """Offer–demand pairs whose chord is short enough to possibly qualify."""
    from scipy.spatial import cKDTree

    reach = arrays.demand_max_m[group].max()
    radius = np.minimum(ceiling_d[group].max() - pi_o[offers], arrays.offer_max_m[offers])
    radius = np.minimum(radius, reach) + RANGE_SLACK_M
    live = radius >= 0
    if not live.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    tree = cKDTree(arrays.demand_xyz[group])
    hits = tree.query_ball_point(
        arrays.offer_xyz[offers[live]], radius[live], return_sorted=False
    )
    lengths = np.fromiter(map(len, hits), dtype=np.int64, count=hits.size)
    flat = np.fromiter(chain.from_iterable(hits), dtype=np.int64, count=int(lengths.sum()))
    return np.repeat(offers[live], lengths), group[flat]


def _most_violated(pairs: Pairs, reduced: np.ndarray, per_node: int) -> Pairs:
    """The ``per_node`` most negative reduced costs of each offer and of each demand."""
    if not len(pairs):
        return pairs
    keep = np.zeros(len(pairs), dtype=bool)
    for node in (pairs.offer, pairs.demand):
        order = np.lexsort((reduced, node))
        sorted_node = node[order]
        rank = np.arange(order.size) - np.searchsorted(sorted_node, sorted_node)
        keep[order[rank < per_node]] = True
    return pairs.take(keep)
