"""The open market as a spatial index: one KD-tree per waste code, and compact rule columns.

A recommendation asks "the nearest compatible partners of this one listing".
A scan judges every open listing of the code; this index answers from the
few nearest instead. It is pure (numpy, scipy and the matcher's dataclasses;
no Flask, no SQLAlchemy): ``recommend`` loads it from the database and keeps
it fresh.

* Where: sites as Earth-centred (ECEF) metres, one ``cKDTree`` per waste code
  over the offers of that code and one over the demands accepting it. The
  straight chord never exceeds the WGS-84 geodesic (``matching.geodesy``), so
  a chord ball of radius *r* holds every partner within *r* and "all partners
  with a chord below *b* have been seen" proves that no unseen one is nearer
  than *b* by road-free geodesic.
* What: the inputs of ``matching.problem.incompatibility`` as columns
  (class, quality values / limits, both sides' ``max_km``) plus the enterprise,
  so one request judges its candidates in a few numpy operations. The scalar
  rule stays the reference: ``tests/unit/test_spatial.py`` checks on random
  markets that :meth:`MarketIndex.verdicts` agrees with it pair by pair, and
  the caller re-judges what it shows with the scalar rule itself.
* Nearest first, exactly: :meth:`MarketIndex.walk` fetches the chord-nearest
  candidates, computes their geodesics (Vincenty, as geopy within a mm), and
  widens the fetch until the last listing kept is nearer than every unseen
  one can be.

An index is immutable once built; threads share it without locks.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Collection, Hashable, Mapping, NamedTuple, Sequence

import numpy as np

from wasteex.matching import geodesy
from wasteex.matching.problem import Demand, Limit, Offer

FIRST_DEPTH = 64  # candidates fetched per tree on the first pass; ×4 per widening
CHORD_SLACK_M = 1.0  # a chord ball this much wider than the reach (rounding to whole metres)


@dataclass(frozen=True)
class Found:
    """What :meth:`MarketIndex.walk` returns: positions on the other side, geodesic metres, nearest first."""

    compatible: list[tuple[int, float]]
    near: list[tuple[int, float]]  # within reach but failing a rule
    examined: int  # candidates judged (a cost figure for benchmarks)


class OfferRow(NamedTuple):
    """What the rules read of an open offer (plain tuples: 20,000 of them build in milliseconds)."""

    id: int
    enterprise_id: int
    sw_code: str
    waste_class: str | None
    max_km: float | None
    lat: float
    lon: float
    quality: Mapping[str, float]


class DemandRow(NamedTuple):
    id: int
    enterprise_id: int
    accepts: Collection[str]
    accepts_class: Collection[str] | None
    max_km: float | None
    lat: float
    lon: float
    limits: Mapping[str, Limit]


def offer_row(offer: Offer, enterprise_id: int) -> OfferRow:
    return OfferRow(int(offer.id), enterprise_id, offer.sw_code, offer.waste_class, offer.max_km, offer.lat, offer.lon,
                    offer.quality)


def demand_row(demand: Demand, enterprise_id: int) -> DemandRow:
    return DemandRow(int(demand.id), enterprise_id, demand.accepts, demand.accepts_class, demand.max_km, demand.lat,
                     demand.lon, demand.limits)


class _Side:
    """One side of the market as aligned columns; position ``p`` is the ``p``-th row given."""

    def __init__(self, rows: Sequence[OfferRow] | Sequence[DemandRow]):
        self.ids = np.array([r.id for r in rows], dtype=np.int64)
        self.enterprise = np.array([r.enterprise_id for r in rows], dtype=np.int64)
        self.lat = np.array([r.lat for r in rows], dtype=np.float64)
        self.lon = np.array([r.lon for r in rows], dtype=np.float64)
        self.xyz = geodesy.ecef(self.lat, self.lon).reshape(-1, 3)
        self.max_m = np.array([math.inf if r.max_km is None else r.max_km * 1000 for r in rows], dtype=np.float64)

    def __len__(self) -> int:
        return int(self.ids.size)


def _trees(xyz: np.ndarray, members_by_code: dict[str, list[int]]) -> dict:
    from scipy.spatial import cKDTree  # imported late: ~0.4 s, pages that never recommend skip it

    out = {}
    for code, members in members_by_code.items():
        members = np.array(sorted(members), dtype=np.int64)
        out[code] = (cKDTree(xyz[members]), members)
    return out


class MarketIndex:
    """Open offers and demands; positions index the rows given, ``ids`` map them back to listings."""

    def __init__(self, offers: Sequence[OfferRow], demands: Sequence[DemandRow], fingerprint: Hashable = None):
        started = time.perf_counter()
        self.fingerprint = fingerprint
        self.offers, self.demands = _Side(offers), _Side(demands)
        self.attributes = sorted({k for o in offers for k in o.quality} | {k for d in demands for k in d.limits})
        self.attribute_of = {name: a for a, name in enumerate(self.attributes)}
        self.classes = sorted({o.waste_class for o in offers if o.waste_class is not None}
                              | {c for d in demands for c in (d.accepts_class or ())})
        self.class_of = {name: n + 1 for n, name in enumerate(self.classes)}  # column 0: no class
        self._offer_columns(offers)
        self._demand_columns(demands)
        by_code: dict[str, list[int]] = {}
        for p, o in enumerate(offers):
            by_code.setdefault(o.sw_code, []).append(p)
        self.offer_trees = _trees(self.offers.xyz, by_code)
        by_code = {}
        for p, d in enumerate(demands):
            for code in d.accepts:
                by_code.setdefault(code, []).append(p)
        self.demand_trees = _trees(self.demands.xyz, by_code)
        self.seconds = time.perf_counter() - started

    @classmethod
    def of(cls, offers: Sequence[Offer], offer_enterprises: Sequence[int], demands: Sequence[Demand],
           demand_enterprises: Sequence[int], fingerprint: Hashable = None) -> "MarketIndex":
        """From the matcher's dataclasses (ids must be integers in text)."""
        return cls([offer_row(o, e) for o, e in zip(offers, offer_enterprises)],
                   [demand_row(d, e) for d, e in zip(demands, demand_enterprises)], fingerprint)

    def _offer_columns(self, offers: Sequence[OfferRow]) -> None:
        self.codes = sorted({o.sw_code for o in offers})
        code_of = {code: n for n, code in enumerate(self.codes)}
        self.offer_code = np.array([code_of[o.sw_code] for o in offers], dtype=np.int64)
        self.offer_class = np.array([self.class_of.get(o.waste_class, 0) for o in offers], dtype=np.int64)
        self.quality = np.full((len(offers), len(self.attributes)), np.nan)
        cells = [(p, self.attribute_of[name], value) for p, o in enumerate(offers) for name, value in o.quality.items()]
        if cells:
            p, a, value = zip(*cells)
            self.quality[list(p), list(a)] = value

    def _demand_columns(self, demands: Sequence[DemandRow]) -> None:
        n, n_attr = len(demands), len(self.attributes)
        restricted = [p for p, d in enumerate(demands) if d.accepts_class is not None]
        allowed = [(p, self.class_of[c]) for p in restricted for c in demands[p].accepts_class]
        self.class_ok = np.ones((n, len(self.classes) + 1), dtype=bool)  # column 0: unrestricted only
        self.class_ok[restricted] = False
        if allowed:
            self.class_ok[tuple(np.array(allowed).T)] = True
        self.limited = np.zeros((n, n_attr), dtype=bool)
        self.low = np.full((n, n_attr), -np.inf)
        self.high = np.full((n, n_attr), np.inf)
        cells = [(p, self.attribute_of[name], -np.inf if lim.min is None else lim.min,
                  np.inf if lim.max is None else lim.max)
                 for p, d in enumerate(demands) for name, lim in d.limits.items()]
        if cells:
            p, a, low, high = (list(c) for c in zip(*cells))
            self.limited[p, a] = True
            self.low[p, a] = low
            self.high[p, a] = high

    # The rules, as columns ------------------------------------------------------

    def verdicts_for_offer(self, offer: Offer, demands: np.ndarray, metres: np.ndarray) -> np.ndarray:
        """``incompatibility(offer, demand, round(m)) is None`` for demand positions ``demands``."""
        tree = self.demand_trees.get(offer.sw_code)
        ok = _accepting(tree[1], demands) if tree else np.zeros(demands.shape, dtype=bool)
        ok &= self.class_ok[demands, self.class_of.get(offer.waste_class, 0)]
        for name, a in self.attribute_of.items():
            limited = self.limited[demands, a]
            if not limited.any():
                continue
            value = offer.quality.get(name, np.nan)  # NaN fails every comparison: unknown fails a limit
            ok &= ~limited | ((value >= self.low[demands, a]) & (value <= self.high[demands, a]))
        rounded = np.rint(metres)
        ok &= rounded <= self.demands.max_m[demands]
        if offer.max_km is not None:
            ok &= rounded <= offer.max_km * 1000
        return ok

    def verdicts_for_demand(self, demand: Demand, offers: np.ndarray, metres: np.ndarray) -> np.ndarray:
        """``incompatibility(offer, demand, round(m)) is None`` for offer positions ``offers``."""
        accepted = np.array([c in demand.accepts for c in self.codes], dtype=bool)
        ok = accepted[self.offer_code[offers]] if self.codes else np.zeros(offers.shape, dtype=bool)
        if demand.accepts_class is not None:
            allowed = np.zeros(len(self.classes) + 1, dtype=bool)
            allowed[[self.class_of[c] for c in demand.accepts_class if c in self.class_of]] = True
            ok &= allowed[self.offer_class[offers]]
        for name, limit in demand.limits.items():
            a = self.attribute_of.get(name)
            if a is None:  # no open offer states it: all unknown
                ok[:] = False
                break
            value = self.quality[offers, a]
            ok &= (value >= (-np.inf if limit.min is None else limit.min)) & \
                  (value <= (np.inf if limit.max is None else limit.max))
        rounded = np.rint(metres)
        ok &= rounded <= self.offers.max_m[offers]
        if demand.max_km is not None:
            ok &= rounded <= demand.max_km * 1000
        return ok

    # Nearest first ---------------------------------------------------------------

    def demands_for(self, offer: Offer, enterprise_id: int | None, reach_m: float, limit: int,
                    near_limit: int) -> Found:
        """The nearest compatible demands (and near misses) of ``offer`` within ``reach_m`` geodesic metres."""
        trees = [self.demand_trees[offer.sw_code]] if offer.sw_code in self.demand_trees else []
        return self.walk(self.demands, trees, offer.lat, offer.lon, enterprise_id, reach_m, limit, near_limit,
                         lambda pos, m: self.verdicts_for_offer(offer, pos, m))

    def offers_for(self, demand: Demand, enterprise_id: int | None, reach_m: float, limit: int,
                   near_limit: int) -> Found:
        """The nearest compatible offers (and near misses) of ``demand`` within ``reach_m`` geodesic metres."""
        trees = [self.offer_trees[c] for c in sorted(demand.accepts) if c in self.offer_trees]
        return self.walk(self.offers, trees, demand.lat, demand.lon, enterprise_id, reach_m, limit, near_limit,
                         lambda pos, m: self.verdicts_for_demand(demand, pos, m))

    def walk(self, side: _Side, trees: list, lat: float, lon: float, enterprise_id: int | None, reach_m: float,
             limit: int, near_limit: int, judge) -> Found:
        """Fetch chord-nearest candidates, widening ×4 until the kept ones are provably the nearest.

        Order is (geodesic metres, listing id). Everything not yet fetched from
        a tree lies at a chord (hence a geodesic) of at least that tree's last
        fetched chord, so once the last kept listing of each kind is nearer
        than that, more depth cannot change the answer.
        """
        xyz = geodesy.ecef(lat, lon).reshape(3)
        depth = FIRST_DEPTH
        while True:
            pos, boundary = _fetch(trees, xyz, reach_m + CHORD_SLACK_M, depth)
            pos = pos[side.enterprise[pos] != enterprise_id] if enterprise_id is not None else pos
            metres = geodesy.geodesic_m(lat, lon, side.lat[pos], side.lon[pos])
            inside = np.rint(metres) <= reach_m
            pos, metres = pos[inside], metres[inside]
            ok = judge(pos, metres)
            order = np.lexsort((side.ids[pos], metres))
            good, bad = order[ok[order]][:limit], order[~ok[order]][:near_limit]
            settled = all(len(kept) == wanted and metres[kept[-1]] < boundary
                          for kept, wanted in ((good, limit), (bad, near_limit)))
            if boundary == math.inf or settled:
                return Found([(int(pos[k]), float(metres[k])) for k in good],
                             [(int(pos[k]), float(metres[k])) for k in bad], examined=int(pos.size))
            depth *= 4


def _fetch(trees: list, xyz: np.ndarray, bound_m: float, depth: int) -> tuple[np.ndarray, float]:
    """Up to ``depth`` chord-nearest members of each tree within ``bound_m``, and the unseen boundary.

    The boundary is the smallest chord an unfetched member can have (∞ when
    every tree is exhausted, by size or by radius).
    """
    found, boundary = [], math.inf
    for tree, members in trees:
        k = min(depth, members.size)
        chord, index = tree.query(xyz, k=k, distance_upper_bound=bound_m)
        chord, index = np.atleast_1d(chord), np.atleast_1d(index)
        hit = np.isfinite(chord)
        if hit.all() and k < members.size:
            boundary = min(boundary, float(chord[-1]))
        found.append(members[index[hit]])
    return (np.concatenate(found) if found else np.empty(0, dtype=np.int64)), boundary


def _accepting(members: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Which ``positions`` are among the sorted ``members`` (demands accepting the code)."""
    if members.size == 0:
        return np.zeros(positions.shape, dtype=bool)
    at = np.minimum(np.searchsorted(members, positions), members.size - 1)
    return members[at] == positions
