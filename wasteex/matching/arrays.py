"""A column-wise (numpy) view of a :class:`Problem`, and vectorised compatibility.

Every candidate generator and the pricing step test millions of
(offer, demand) pairs; doing it on arrays keeps that in C. The rules are the
ones of :func:`problem.incompatibility`, restated as masks:

* owner: ``offer_owner[i] != demand_owner[j]`` (an unset owner never equals one);
* code: ``accepts[j, code[i]]``;
* class: ``class_ok[j, klass[i]]`` where column 0 stands for "no class";
* quality: for each limited attribute, ``lo[j] <= q[i] <= hi[j]`` (NaN, i.e.
  an unknown value, fails every comparison, hence every limit);
* distance: the geodesic is within both sides' ``max_m`` (∞ when unset).

Distances become integer metres (the cost unit) once, in :meth:`Arrays.pair_costs`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wasteex.matching import geodesy
from wasteex.matching.problem import Problem

RANGE_SLACK_M = 1.0  # a chord-based prefilter keeps pairs up to this much beyond a bound


@dataclass(frozen=True)
class Pairs:
    """Candidate arcs: offer index, demand index, cost in integer metres."""

    offer: np.ndarray
    demand: np.ndarray
    cost: np.ndarray

    def __len__(self) -> int:
        return int(self.offer.size)

    @classmethod
    def empty(cls) -> "Pairs":
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))

    @classmethod
    def concat(cls, parts: list["Pairs"]) -> "Pairs":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("offer", "demand", "cost")))

    def keys(self, n_demands: int) -> np.ndarray:
        return self.offer * n_demands + self.demand

    def union(self, other: "Pairs", n_demands: int) -> "Pairs":
        """Both sets, each pair once, sorted by (offer, demand) for determinism."""
        keys = np.concatenate([self.keys(n_demands), other.keys(n_demands)])
        _, first = np.unique(keys, return_index=True)
        pick = lambda a, b: np.concatenate([a, b])[first]  # noqa: E731
        return Pairs(
            pick(self.offer, other.offer), pick(self.demand, other.demand), pick(self.cost, other.cost)
        )

    def extend(self, other: "Pairs", n_demands: int) -> "Pairs":
        """These pairs, in their order (flows stay aligned), then the new ones of ``other``."""
        keys = other.keys(n_demands)
        fresh = np.flatnonzero(~is_member(np.sort(self.keys(n_demands)), keys))
        _, first = np.unique(keys[fresh], return_index=True)
        return Pairs.concat([self, other.take(fresh[np.sort(first)])])

    def take(self, mask) -> "Pairs":
        return Pairs(self.offer[mask], self.demand[mask], self.cost[mask])


class Arrays:
    """Offers and demands as aligned numpy columns, grouped by waste code."""

    def __init__(self, problem: Problem):
        offers, demands = problem.offers, problem.demands
        self.n_offers, self.n_demands = len(offers), len(demands)
        self.codes = sorted({o.sw_code for o in offers})
        code_of = {c: n for n, c in enumerate(self.codes)}
        classes = sorted({o.waste_class for o in offers if o.waste_class is not None})
        class_of = {c: n + 1 for n, c in enumerate(classes)}
        self.attributes = sorted({a for d in demands for a in d.limits})

        self.offer_kg = np.array([o.kg for o in offers], dtype=np.int64)
        self.demand_kg = np.array([d.kg for d in demands], dtype=np.int64)
        self.offer_lat = np.array([o.lat for o in offers], dtype=np.float64)
        self.offer_lon = np.array([o.lon for o in offers], dtype=np.float64)
        self.demand_lat = np.array([d.lat for d in demands], dtype=np.float64)
        self.demand_lon = np.array([d.lon for d in demands], dtype=np.float64)
        self.offer_xyz = geodesy.ecef(self.offer_lat, self.offer_lon).reshape(-1, 3)
        self.demand_xyz = geodesy.ecef(self.demand_lat, self.demand_lon).reshape(-1, 3)
        self.offer_max_m = _max_metres(o.max_km for o in offers)
        self.demand_max_m = _max_metres(d.max_km for d in demands)

        self.offer_code = np.array([code_of[o.sw_code] for o in offers], dtype=np.int64)
        self.offer_class = np.array([class_of.get(o.waste_class, 0) for o in offers], dtype=np.int64)
        self.accepts = np.zeros((self.n_demands, max(len(self.codes), 1)), dtype=bool)
        self.class_ok = np.ones((self.n_demands, len(classes) + 1), dtype=bool)
        for j, d in enumerate(demands):
            self.accepts[j, [code_of[c] for c in d.accepts if c in code_of]] = True
            if d.accepts_class is not None:
                self.class_ok[j] = False
                self.class_ok[j, [class_of[c] for c in d.accepts_class if c in class_of]] = True
        owner_of = {o: n for n, o in enumerate(sorted({x.owner for x in (*offers, *demands) if x.owner is not None}))}
        self.offer_owner = np.array([owner_of.get(o.owner, -1) for o in offers], dtype=np.int64)
        self.demand_owner = np.array([owner_of.get(d.owner, -2) for d in demands], dtype=np.int64)
        self._quality_columns(problem)

        self.offers_by_code = [np.flatnonzero(self.offer_code == c) for c in range(len(self.codes))]
        self.demands_by_code = [np.flatnonzero(self.accepts[:, c]) for c in range(len(self.codes))]

    def _quality_columns(self, problem: Problem) -> None:
        n_attr = len(self.attributes)
        self.quality = np.full((self.n_offers, n_attr), np.nan)
        self.low = np.full((self.n_demands, n_attr), -np.inf)
        self.high = np.full((self.n_demands, n_attr), np.inf)
        self.limited = np.zeros((self.n_demands, n_attr), dtype=bool)
        for a, name in enumerate(self.attributes):
            for i, o in enumerate(problem.offers):
                value = o.quality.get(name)
                if value is not None:
                    self.quality[i, a] = value
            for j, d in enumerate(problem.demands):
                limit = d.limits.get(name)
                if limit is not None:
                    self.limited[j, a] = True
                    self.low[j, a] = -np.inf if limit.min is None else limit.min
                    self.high[j, a] = np.inf if limit.max is None else limit.max

    def code_pairs(self) -> int:
        """How many (offer, demand) pairs agree on the waste code: the dense size."""
        return sum(o.size * d.size for o, d in zip(self.offers_by_code, self.demands_by_code))

    def attributes_ok(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Owner, code, class and quality rules for paired index arrays (no distance)."""
        ok = self.accepts[j, self.offer_code[i]] & self.class_ok[j, self.offer_class[i]]
        ok &= self.offer_owner[i] != self.demand_owner[j]
        for a in range(len(self.attributes)):
            q = self.quality[i, a]
            inside = (q >= self.low[j, a]) & (q <= self.high[j, a])
            ok &= inside | ~self.limited[j, a]
        return ok

    def range_bound_m(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.minimum(self.offer_max_m[i], self.demand_max_m[j])

    def chord_m(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return geodesy.chord_m(self.offer_xyz[i], self.demand_xyz[j])

    def pair_costs(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact geodesic metres and the in-range mask; costs are those metres rounded once."""
        metres = geodesy.geodesic_m(
            self.offer_lat[i], self.offer_lon[i], self.demand_lat[j], self.demand_lon[j]
        )
        return np.rint(metres).astype(np.int64), metres <= self.range_bound_m(i, j)

    def surely_in_range(self, i: np.ndarray, j: np.ndarray, chord: np.ndarray) -> np.ndarray:
        """Pairs whose chord proves the geodesic within both ranges, no geodesic needed.

        The geodesic exceeds the chord by about s³/24R² (R ≥ 6,335 km on
        WGS-84): ~270 m at 600 km. We allow s³/20R² + 10 m.
        """
        bound = self.range_bound_m(i, j)
        with np.errstate(invalid="ignore"):
            margin = bound**3 / (20 * 6.335e6**2) + 10.0
            return np.isinf(bound) | (chord <= bound - margin)

    def in_range(self, i: np.ndarray, j: np.ndarray, chord: np.ndarray) -> np.ndarray:
        """Exact range test, computing geodesics only for pairs near a bound."""
        ok = self.surely_in_range(i, j, chord)
        unsure = np.flatnonzero(~ok & (chord <= self.range_bound_m(i, j) + RANGE_SLACK_M))
        if unsure.size:
            ok[unsure] = self.pair_costs(i[unsure], j[unsure])[1]
        return ok

    def compatible_pairs(self, i: np.ndarray, j: np.ndarray, cheap_bound_m=None) -> Pairs:
        """Filter raw index pairs down to compatible ones, cheapest tests first.

        ``cheap_bound_m`` (per pair) lets the caller discard pairs whose chord
        already exceeds what it is looking for, before any geodesic is computed.
        """
        bound = self.range_bound_m(i, j)
        if cheap_bound_m is not None:
            bound = np.minimum(bound, cheap_bound_m)
        keep = self.chord_m(i, j) <= bound + RANGE_SLACK_M
        keep[keep] = self.attributes_ok(i[keep], j[keep])
        i, j = i[keep], j[keep]
        cost, in_range = self.pair_costs(i, j)
        return Pairs(i[in_range], j[in_range], cost[in_range])


def is_member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which ``keys`` occur in ``sorted_keys`` (vectorised binary search)."""
    if sorted_keys.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return sorted_keys[pos] == keys


def _max_metres(values) -> np.ndarray:
    return np.array([np.inf if v is None else float(v) * 1000 for v in values], dtype=np.float64)
