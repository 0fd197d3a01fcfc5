"""Exact matching: most tonnes first, then fewest tonne-km — as min-cost flow.

Offers are supply nodes (kg), demands are demand nodes (kg), each candidate
pair an arc costing its distance in whole metres per kg. OR-Tools'
``solve_max_flow_with_min_cost`` returns a maximum flow of minimum cost on
that network, which is exactly the lexicographic objective, in integers.

Small markets are solved on the complete compatible set ("dense"). Large
ones ("sparse") never build that set:

1. each node's ``k`` nearest compatible partners (:mod:`candidates`),
2. grown until its max-flow equals the full market's (OR-Tools max-flow and
   a min-cut test, cheap),
3. solved (OR-Tools min-cost flow), then priced: every compatible pair of the
   market is checked against the duals (:mod:`pricing`); violators and
   near-violators are added and the flow re-optimised from where it was
   (:mod:`repair`), until no violator is left — the certificate.

Either way the result is optimal for the full market, with that proof in hand.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from wasteex.matching import candidates, network, pricing, repair
from wasteex.matching.arrays import Arrays, Pairs
from wasteex.matching.problem import Allocation, Problem, Result

DENSE_LIMIT = 600_000  # code-matching pairs up to which enumerating everything is cheaper
DEFAULT_K = 10  # nearest partners per node (each side) in the first candidate set
PER_NODE = 8  # pairs added per offer and per demand in each pricing round
MARGIN_M = 2_000  # also add pairs within this reduced cost (m/kg) of violating
PRUNE_M = 30_000  # before early re-solves, drop idle pairs priced this far above tight
PRUNE_ROUNDS = 3

log = logging.getLogger(__name__)


@dataclass
class _State:
    """The candidate network, its optimal flow and the potentials that prove it."""

    pairs: Pairs
    flow: np.ndarray
    pi: np.ndarray
    solves: int = 1
    repairs: int = 0  # warm re-solves


def solve(
    problem: Problem,
    *,
    strategy: str = "auto",
    k: int = DEFAULT_K,
    per_node: int = PER_NODE,
    margin_m: float = MARGIN_M,
    warm: bool = True,
    prune_m: float | None = PRUNE_M,
) -> Result:
    """Allocate offers to demands: maximise tonnes, then minimise tonne-km.

    ``strategy`` is "dense", "sparse" or "auto" (dense up to ``DENSE_LIMIT``
    code-matching pairs). The other knobs tune the sparse path's speed; they
    never change the answer (ties aside: equal-cost optima may differ).
    """
    started = time.perf_counter()
    arrays = Arrays(problem)
    if strategy == "auto":
        strategy = "dense" if arrays.code_pairs() <= DENSE_LIMIT else "sparse"
    if strategy == "dense":
        pairs = candidates.dense_pairs(arrays)
        state = _State(pairs, network.solve_network(arrays, pairs), None)
    elif strategy == "sparse":
        state = _column_generation(arrays, k, per_node, margin_m, warm, prune_m)
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    return _result(problem, arrays, state, strategy, started)


def _column_generation(
    arrays: Arrays, k: int, per_node: int, margin: float, warm: bool, prune: float | None
) -> _State:
    """Solve, price every compatible pair against the duals, add violators, repeat.

    Ends only with a certificate: potentials under which no compatible pair
    of the whole market has a negative reduced cost. Each round adds at least
    one new pair and pairs are finite, so it always ends.
    """
    n_d = arrays.n_demands
    pairs = _max_flow_closure(arrays, candidates.nearest_pairs(arrays, k), per_node)
    flow = network.solve_network(arrays, pairs)
    state = _State(pairs, flow, pricing.potentials(arrays, pairs, flow))
    while True:
        added = pricing.violating_pairs(arrays, state.pi, state.pairs, per_node, margin)
        violators = added.take(_reduced(arrays, added, state.pi) < 0)
        log.debug("pricing: %d violators, %d pairs added", len(violators), len(added))
        if not len(violators):
            return state
        if prune is not None and state.solves + state.repairs <= PRUNE_ROUNDS:
            _prune(arrays, state, prune)
        state.pairs = state.pairs.extend(added, n_d)
        state.flow = np.concatenate([state.flow, np.zeros(len(state.pairs) - state.flow.size, np.int64)])
        if not (warm and _warm_resolve(arrays, state)):
            state.flow = network.solve_network(arrays, state.pairs)
            state.pi = pricing.potentials(arrays, state.pairs, state.flow)
            state.solves += 1
            log.debug("full solve %d on %d pairs", state.solves, len(state.pairs))
        if state.solves + state.repairs > 12:  # slow convergence: widen faster
            per_node = min(per_node * 2, 1 << 20)


def _warm_resolve(arrays: Arrays, state: _State) -> bool:
    """Re-optimise from the current flow (:mod:`repair`); True once proven optimal."""
    flow = repair.resolve_residual(arrays, state.pairs, state.flow, state.pi)
    if flow is None:
        return False
    try:
        pi = pricing.potentials(arrays, state.pairs, flow)
    except pricing.CertificateError:  # not expected: the circulation is exact
        log.warning("warm re-solve not proven optimal; solving from scratch")
        return False
    state.flow, state.pi = flow, pi
    state.repairs += 1
    log.debug("warm re-solve %d on %d pairs", state.repairs, len(state.pairs))
    return True


def _prune(arrays: Arrays, state: _State, above: float) -> None:
    """Drop idle pairs whose reduced cost is far from tight: they would only slow OR-Tools.

    They stay in the market: if a later round's prices make one of them a
    violator, pricing adds it back. (Only early rounds prune, so the column
    generation still ends.)
    """
    keep = (state.flow > 0) | (_reduced(arrays, state.pairs, state.pi) < above)
    state.pairs, state.flow = state.pairs.take(keep), state.flow[keep]


def _reduced(arrays: Arrays, pairs: Pairs, pi: np.ndarray) -> np.ndarray:
    return pairs.cost + pi[pairs.offer] - pi[arrays.n_offers + pairs.demand]


def _max_flow_closure(arrays: Arrays, pairs: Pairs, per_node: int) -> Pairs:
    """Grow ``pairs`` until their maximum flow is the full market's.

    Cheap (OR-Tools max-flow is ~50× faster than its min-cost flow here) and
    it removes the bulk of the violators the first min-cost round would find:
    nearest-neighbour candidates route tonnes well but not always *all* the
    tonnes. The test is the min-cut: a compatible pair from the source side
    to the sink side is an augmenting path the candidates lack.
    """
    n_o = arrays.n_offers
    while True:
        side = network.max_flow_source_side(arrays, pairs)
        missing = pricing.augmenting_pairs(arrays, side[:n_o], ~side[n_o:], per_node)
        if not len(missing):
            return pairs
        pairs = pairs.extend(missing, arrays.n_demands)


def _result(problem: Problem, arrays: Arrays, state: _State, strategy: str, started: float) -> Result:
    pairs, flow = state.pairs, state.flow
    used = flow > 0
    order = np.lexsort((pairs.cost[used], pairs.demand[used], pairs.offer[used]))
    rows = zip(
        pairs.offer[used][order].tolist(),
        pairs.demand[used][order].tolist(),
        flow[used][order].tolist(),
        pairs.cost[used][order].tolist(),
    )
    allocations = tuple(
        Allocation(i, j, problem.offers[i].id, problem.demands[j].id, kg, metres)
        for i, j, kg, metres in rows
    )
    matched = sum(a.kg for a in allocations)
    return Result(
        allocations=allocations,
        matched_kg=matched,
        cost_kg_m=sum(a.kg * a.metres for a in allocations),
        unmatched_offer_kg=int(arrays.offer_kg.sum()) - matched,
        unmet_demand_kg=int(arrays.demand_kg.sum()) - matched,
        optimal=True,  # both strategies return only once optimality is proven
        seconds=time.perf_counter() - started,
        candidate_pairs=len(pairs),
        rounds=state.solves,
        repairs=state.repairs,
        strategy=strategy,
        potentials=state.pi,
        big_m=pricing.big_m(arrays),
        network=(pairs, flow),
    )
