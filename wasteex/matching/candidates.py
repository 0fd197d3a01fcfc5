"""Which (offer, demand) arcs go into the flow network.

Two generators:

* :func:`dense_pairs` — every compatible pair. Exact by construction and the
  fastest route for small markets (up to a few hundred thousand code-matching
  pairs), because it needs neither scipy nor a certificate.
* :func:`nearest_pairs` — for each offer its ``k`` nearest compatible demands
  and for each demand its ``k`` nearest compatible offers, found with one
  KD-tree per waste code over ECEF coordinates (never the dense set). This is
  a *guess* at the support of the optimum; :mod:`pricing` then proves it or
  adds the arcs it missed.
"""
from __future__ import annotations

import numpy as np

from wasteex.matching.arrays import RANGE_SLACK_M, Arrays, Pairs

DENSE_CHUNK = 2_000_000  # code-matching pairs materialised at a time


def dense_pairs(arrays: Arrays) -> Pairs:
    """All compatible pairs, enumerated per waste code in bounded chunks."""
    found = []
    for offers, demands in zip(arrays.offers_by_code, arrays.demands_by_code):
        if offers.size == 0 or demands.size == 0:
            continue
        step = max(1, DENSE_CHUNK // demands.size)
        for start in range(0, offers.size, step):
            block = offers[start : start + step]
            i = np.repeat(block, demands.size)
            j = np.tile(demands, block.size)
            found.append(arrays.compatible_pairs(i, j))
    return Pairs.concat(found)


def nearest_pairs(arrays: Arrays, k: int) -> Pairs:
    """Each node's ``k`` nearest compatible partners, from both sides, as one set."""
    every_offer = np.ones(arrays.n_offers, dtype=bool)
    every_demand = np.ones(arrays.n_demands, dtype=bool)
    found = [
        nearest_across(arrays, every_offer, every_demand, k, from_offers=True),
        nearest_across(arrays, every_offer, every_demand, k, from_offers=False),
    ]
    return Pairs.concat(found).union(Pairs.empty(), arrays.n_demands)


def nearest_across(arrays: Arrays, offer_mask, demand_mask, k: int, from_offers: bool) -> Pairs:
    """For each selected node on one side, its ``k`` nearest compatible selected partners.

    The search is *complete*: a node that gets fewer than ``k`` partners has
    no other compatible partner among the selected ones. That makes it a
    certificate too — with the two sides of a minimum cut as masks, an empty
    answer proves that no augmenting pair exists.
    """
    from scipy.spatial import cKDTree  # imported late: ~0.4 s, small markets never need it

    found = []
    for offers, demands in zip(arrays.offers_by_code, arrays.demands_by_code):
        offers, demands = offers[offer_mask[offers]], demands[demand_mask[demands]]
        if offers.size == 0 or demands.size == 0:
            continue
        sources, targets = (offers, demands) if from_offers else (demands, offers)
        xyz = arrays.demand_xyz if from_offers else arrays.offer_xyz
        tree = cKDTree(xyz[targets])
        found.append(_knn(arrays, sources, targets, tree, k, from_offers))
    return Pairs.concat(found)


def _knn(arrays: Arrays, sources, targets, tree, k: int, from_offers: bool) -> Pairs:
    """``k`` nearest compatible targets per source, widening the search where filters bite.

    The tree answers by chord length (a lower bound of the geodesic and nearly
    the same order); a source whose ``depth`` nearest targets within its own
    range yield fewer than ``k`` compatible ones is asked again with twice the
    depth, until its range or the tree is exhausted.
    """
    own_max = arrays.offer_max_m if from_offers else arrays.demand_max_m
    other_max = (arrays.demand_max_m if from_offers else arrays.offer_max_m)[targets].max()
    xyz = arrays.offer_xyz if from_offers else arrays.demand_xyz
    n_sources = arrays.n_offers if from_offers else arrays.n_demands
    found, pending, depth = [], sources, min(targets.size, 3 * k)
    while pending.size:
        reach = np.minimum(own_max[pending], other_max) + RANGE_SLACK_M
        dist, hits = tree.query(
            xyz[pending], k=depth, distance_upper_bound=float(reach.max()), workers=-1
        )
        dist, hits = dist.reshape(pending.size, depth), hits.reshape(pending.size, depth)
        inside = dist <= reach[:, None]
        src = np.broadcast_to(pending[:, None], hits.shape)[inside]
        tgt = targets[hits[inside]]
        i, j = (src, tgt) if from_offers else (tgt, src)
        pairs = _first_k_per_source(arrays, i, j, dist[inside], from_offers, k)
        source = pairs.offer if from_offers else pairs.demand
        count = np.bincount(source, minlength=n_sources)[pending]
        # widen only where the filters removed too much and the range had more to give
        hungry = (count < k) & inside.all(axis=1) & (depth < targets.size)
        retry = np.zeros(n_sources, dtype=bool)
        retry[pending[hungry]] = True
        found.append(pairs.take(~retry[source]))
        pending, depth = pending[hungry], min(targets.size, depth * 2)
    return Pairs.concat(found)


def _first_k_per_source(arrays: Arrays, i, j, chord, from_offers: bool, k: int) -> Pairs:
    """The ``k`` chord-nearest compatible pairs of each source, with exact costs.

    Rules are checked first; geodesics are computed only for pairs near a
    range bound and for the pairs finally kept.
    """
    ok = arrays.attributes_ok(i, j)
    ok[ok] = arrays.in_range(i[ok], j[ok], chord[ok])
    i, j, chord = i[ok], j[ok], chord[ok]
    source = i if from_offers else j
    order = np.lexsort((chord, source))
    sorted_source = source[order]
    rank = np.arange(order.size) - np.searchsorted(sorted_source, sorted_source)
    keep = np.sort(order[rank < k])
    i, j = i[keep], j[keep]
    return Pairs(i, j, arrays.pair_costs(i, j)[0])
