"""Warm re-solves: after adding a few arcs, re-optimise from the current flow.

OR-Tools cannot be warm-started, and re-solving a 20k×20k market from
scratch costs 7–15 s even when pricing added a handful of arcs. But the
*change* is itself a min-cost flow problem: a minimum-cost circulation in
the residual graph of the current flow, with reduced costs
``c(u,v) + π(u) − π(v)`` (the potentials that proved the previous optimum).
Every residual arc then costs ≥ 0 except the new violators, so OR-Tools
starts from prices that are already nearly optimal.

It also shrinks, exactly: an optimal circulation splits into negative
cycles, and a simple negative cycle cannot use an arc whose reduced cost is
at least ``B`` = the sum of the violators' |reduced cost|, since every other
arc costs ≥ 0. Arcs at or above ``B`` are left out.

Nodes are offers, demands, the source ``S`` and sink ``T`` of the big-M
network of :mod:`pricing` (``S → T`` carries unmatched tonnes at price M).
"""
from __future__ import annotations

import numpy as np

from wasteex.matching import pricing
from wasteex.matching.arrays import Arrays, Pairs

WORST_COST = 1 << 40  # residual costs beyond this would risk OR-Tools' int64 cost checks


def resolve_residual(arrays: Arrays, pairs: Pairs, flow: np.ndarray, pi: np.ndarray) -> np.ndarray | None:
    """The optimal flow on ``pairs``, reached from ``flow`` (optimal before the last additions).

    Returns None when the residual costs are too large for OR-Tools (violators
    across the min cut cost about −M): the caller then re-solves from scratch.
    """
    from ortools.graph.python import min_cost_flow

    tails, heads, caps, costs, pair_arc = _residual_arcs(arrays, pairs, flow, pi)
    open_arc = caps > 0
    bound = -int(costs[open_arc & (costs < 0)].sum())
    if bound >= WORST_COST:
        return None
    keep = open_arc & (costs < bound)
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        tails[keep].astype(np.int32), heads[keep].astype(np.int32), caps[keep], costs[keep]
    )
    n = arrays.n_offers + arrays.n_demands + 2
    smcf.set_nodes_supplies(np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.int64))
    if smcf.solve() != smcf.OPTIMAL:
        return None
    delta = np.zeros(tails.size, dtype=np.int64)
    delta[keep] = np.asarray(smcf.flows(arcs), dtype=np.int64)
    forward, backward = pair_arc
    change = delta[forward]
    change[backward >= 0] -= delta[backward[backward >= 0]]
    return flow + change


def _residual_arcs(arrays: Arrays, pairs: Pairs, flow: np.ndarray, pi: np.ndarray):
    """Residual arcs with capacities and integer reduced costs.

    Returns tails, heads, capacities, costs, and for each pair the index of
    its forward residual arc and of its backward one (−1 when it has no flow).
    """
    n_o, n_d = arrays.n_offers, arrays.n_demands
    source, sink = n_o + n_d, n_o + n_d + 1
    m = pricing.big_m(arrays)
    pi = np.rint(pi).astype(np.int64)
    used = np.bincount(pairs.offer, weights=flow, minlength=n_o).astype(np.int64)
    served = np.bincount(pairs.demand, weights=flow, minlength=n_d).astype(np.int64)
    offers, demands = np.arange(n_o), n_o + np.arange(n_d)
    total = int(arrays.offer_kg.sum())
    unmatched = total - int(used.sum())
    reduced = pairs.cost + pi[pairs.offer] - pi[n_o + pairs.demand]
    has_flow = np.flatnonzero(flow > 0)
    pair_cap = np.minimum(arrays.offer_kg[pairs.offer], arrays.demand_kg[pairs.demand])
    parts = [
        (pairs.offer, n_o + pairs.demand, pair_cap - flow, reduced),
        (n_o + pairs.demand[has_flow], pairs.offer[has_flow], flow[has_flow], -reduced[has_flow]),
        (np.full(n_o, source), offers, arrays.offer_kg - used, pi[source] - pi[:n_o]),
        (offers, np.full(n_o, source), used, pi[:n_o] - pi[source]),
        (demands, np.full(n_d, sink), arrays.demand_kg - served, pi[n_o:source] - pi[sink]),
        (np.full(n_d, sink), demands, served, pi[sink] - pi[n_o:source]),
        ([source], [sink], [total], [int(m) + pi[source] - pi[sink]]),
        ([sink], [source], [unmatched], [pi[sink] - int(m) - pi[source]]),
    ]
    tails, heads, caps, costs = (
        np.concatenate([np.asarray(p[k], dtype=np.int64) for p in parts]) for k in range(4)
    )
    backward = np.full(len(pairs), -1, dtype=np.int64)
    backward[has_flow] = len(pairs) + np.arange(has_flow.size)
    return tails, heads, caps, costs, (np.arange(len(pairs)), backward)
