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
   near-violators are added and the network re-solved, until no violator
   is left: the certificate.

Re-solves start from scratch: OR-Tools cannot be warm-started, and two ways
around that were measured and dropped — a min-cost circulation on the
residual graph with reduced costs (no faster: cost scaling restarts its
prices anyway) and re-solving only a region around few violators (in a
tight market the improving cycles run through the whole market). Also
measured and dropped (20k×20k, CPU seconds): dropping arcs whose reduced
cost exceeds 2–20 km before a re-solve (solves fall from ~12 s to 5–7 s but
rounds rise from 3 to 7–10), the same with reduced costs as arc costs (no
faster than raw costs), and a primal–dual repair of the last few violators
with scipy Dijkstra plus OR-Tools max-flow (exact, but 132 phases for 9
violators: 14 s against 11 s for a full re-solve). OR-Tools needs ~4–5 s on
the ~40k-arc optimal support alone, so each round costs at least that.

Either way the result is optimal for the full market, with that proof in hand.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from wasteex.matching import candidates, network, pricing
from wasteex.matching.arrays import Arrays, Pairs
from wasteex.matching.problem import Allocation, Problem, Result

DENSE_LIMIT = 600_000  # code-matching pairs up to which enumerating everything is cheaper
DEFAULT_K = 10  # nearest partners per node (each side) in the first candidate set
PER_NODE = 8  # pairs added per offer and per demand in each pricing round
CLOSURE_PER_NODE = 8  # augmenting pairs added per demand in each max-flow round
MARGIN_M = 2_000  # also add pairs within this reduced cost (m/kg) of violating

log = logging.getLogger(__name__)


@dataclass
class _State:
    """The candidate network, its optimal flow and the potentials that prove it."""

    pairs: Pairs
    flow: np.ndarray
    pi: np.ndarray
    solves: int = 1


def solve(
    problem: Problem,
    *,
    strategy: str = "auto",
    k: int = DEFAULT_K,
    per_node: int = PER_NODE,
    margin_m: float = MARGIN_M,
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
        state = _column_generation(arrays, k, per_node, margin_m)
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    return _result(problem, arrays, state, strategy, started)


def _column_generation(arrays: Arrays, k: int, per_node: int, margin: float) -> _State:
    """Solve, price every compatible pair against the duals, add violators, repeat.

    Ends only with a certificate: potentials under which no compatible pair
    of the whole market has a negative reduced cost. Each round adds at least
    one new pair and pairs are finite, so it always ends.
    """
    n_d = arrays.n_demands
    pairs = candidates.nearest_pairs(arrays, k)
    log.debug("%d nearest pairs", len(pairs))
    pairs = _max_flow_closure(arrays, pairs, CLOSURE_PER_NODE)
    log.debug("%d pairs carry the maximum flow", len(pairs))
    flow = network.solve_network(arrays, pairs)
    state = _State(pairs, flow, pricing.potentials(arrays, pairs, flow))
    log.debug("solve 1 on %d pairs", len(pairs))
    while True:
        added = pricing.violating_pairs(arrays, state.pi, state.pairs, per_node, margin)
        violators = added.take(_reduced(arrays, added, state.pi) < 0)
        log.debug("pricing: %d violators, %d pairs added", len(violators), len(added))
        if not len(violators):
            return state
        state.pairs = state.pairs.extend(added, n_d)
        state.flow = network.solve_network(arrays, state.pairs)
        state.pi = pricing.potentials(arrays, state.pairs, state.flow)
        state.solves += 1
        log.debug("solve %d on %d pairs", state.solves, len(state.pairs))
        if state.solves > 12:  # slow convergence: widen faster
            per_node = min(per_node * 2, 1 << 20)


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
        strategy=strategy,
        potentials=state.pi,
        big_m=pricing.big_m(arrays),
        network=(pairs, flow),
    )
