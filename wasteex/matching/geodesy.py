"""WGS-84 distances for the matcher, vectorised with numpy.

The contract is "geodesic kilometres as ``geopy.distance.geodesic`` computes
them" (Karney's algorithm in geographiclib, pure Python, ~5,000 pairs/s).
The matcher needs millions of pairs, so we use Vincenty's inverse formula on
whole arrays: it agrees with Karney to well under a millimetre wherever it
converges. It fails to converge only for nearly antipodal points; those rare
pairs are handed to geographiclib itself, so every answer is exact to the
millimetre anywhere on the globe.

Candidate search works in Earth-centred Earth-fixed (ECEF) coordinates: the
straight chord between two points of the ellipsoid is never longer than the
geodesic over its surface, so a KD-tree ball of radius *r* in ECEF metres is
a guaranteed superset of the pairs whose geodesic distance is at most *r*.
"""
from __future__ import annotations

import numpy as np

A = 6378137.0  # WGS-84 semi-major axis, metres
F = 1 / 298.257223563  # WGS-84 flattening
B = A * (1 - F)
E2 = F * (2 - F)  # first eccentricity squared
MAX_GEODESIC_M = 20_003_932.0  # half a meridian: no geodesic is longer

_TOLERANCE = 1e-11  # radians of longitude on the auxiliary sphere (< 0.1 mm)
_MAX_ITERATIONS = 60
_WHOLE_ARRAY_ITERATIONS = 3


def ecef(lat_deg, lon_deg) -> np.ndarray:
    """Earth-centred coordinates (metres, shape ``(n, 3)``) of surface points."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    sin_lat = np.sin(lat)
    n = A / np.sqrt(1 - E2 * sin_lat * sin_lat)
    out = np.empty(lat.shape + (3,))
    out[..., 0] = n * np.cos(lat) * np.cos(lon)
    out[..., 1] = n * np.cos(lat) * np.sin(lon)
    out[..., 2] = n * (1 - E2) * sin_lat
    return out


def chord_m(xyz1: np.ndarray, xyz2: np.ndarray) -> np.ndarray:
    """Straight-line distance in metres: a lower bound of the geodesic."""
    d = xyz1 - xyz2
    return np.sqrt(np.einsum("...i,...i->...", d, d))


def geodesic_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic distance in metres between paired points (degrees), elementwise.

    Equal to ``geopy.distance.geodesic(...).m`` within a millimetre.
    """
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lat1, lon1, lat2, lon2))
    )
    shape = lat1.shape
    lat1, lon1, lat2, lon2 = (v.ravel() for v in (lat1, lon1, lat2, lon2))
    if lat1.size == 0:
        return np.zeros(shape)
    out, failed = _vincenty(lat1, lon1, lat2, lon2)
    if failed.size:
        out[failed] = _karney(lat1[failed], lon1[failed], lat2[failed], lon2[failed])
    return out.reshape(shape)


def _vincenty(lat1, lon1, lat2, lon2) -> tuple[np.ndarray, np.ndarray]:
    """Vincenty's inverse solution; returns distances and the unconverged indices.

    Iterations run on whole arrays while most pairs are still moving (fancy
    indexing costs more than the arithmetic), then only on the stragglers.
    """
    u1 = np.arctan((1 - F) * np.tan(np.radians(lat1)))
    u2 = np.arctan((1 - F) * np.tan(np.radians(lat2)))
    big_l = np.radians(lon2 - lon1)
    big_l = (big_l + np.pi) % (2 * np.pi) - np.pi
    trig = (np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2))
    lam = big_l.copy()
    state = None
    active = np.arange(lat1.size)
    for iteration in range(_MAX_ITERATIONS):
        if active.size == 0:
            break
        if iteration < _WHOLE_ARRAY_ITERATIONS:
            new_lam, step = _vincenty_step(lam, big_l, *trig)
            state = step
            moving = np.flatnonzero(np.abs(new_lam - lam) > _TOLERANCE)
            lam = new_lam
            active = moving
            continue
        sub = [t[active] for t in trig]
        new_lam, step = _vincenty_step(lam[active], big_l[active], *sub)
        for full, part in zip(state, step):
            full[active] = part
        moving = np.abs(new_lam - lam[active]) > _TOLERANCE
        lam[active] = new_lam
        active = active[moving]
    ss, cs, sig, c2a, c2sm = state
    u_sq = c2a * ((A * A - B * B) / (B * B))
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta = big_b * ss * (
        c2sm
        + big_b / 4 * (
            cs * (-1 + 2 * c2sm * c2sm)
            - big_b / 6 * c2sm * (-3 + 4 * ss * ss) * (-3 + 4 * c2sm * c2sm)
        )
    )
    dist = B * big_a * (sig - delta)
    bad = np.flatnonzero(~np.isfinite(dist) | (np.abs(lam) > np.pi))
    return dist, np.union1d(active, bad)


def _vincenty_step(lam, big_l, su1, cu1, su2, cu2):
    """One fixed-point iteration of Vincenty's longitude on the auxiliary sphere."""
    sl, cl = np.sin(lam), np.cos(lam)
    x = cu2 * sl
    y = cu1 * su2 - su1 * cu2 * cl
    ss = np.sqrt(x * x + y * y)
    cs = su1 * su2 + cu1 * cu2 * cl
    sig = np.arctan2(ss, cs)
    with np.errstate(divide="ignore", invalid="ignore"):
        sa = cu1 * cu2 * sl / ss
        sa[ss == 0] = 0.0  # coincident points
        c2a = 1 - sa * sa
        c2sm = cs - 2 * su1 * su2 / c2a
        c2sm[c2a == 0] = 0.0  # equatorial line
    c = F / 16 * c2a * (4 + F * (4 - 3 * c2a))
    new_lam = big_l + (1 - c) * F * sa * (
        sig + c * ss * (c2sm + c * cs * (-1 + 2 * c2sm * c2sm))
    )
    return new_lam, (ss, cs, sig, c2a, c2sm)


def _karney(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Exact distances from geographiclib, for the few pairs Vincenty cannot do."""
    from geographiclib.geodesic import Geodesic

    geod = Geodesic.WGS84
    return np.array(
        [
            geod.Inverse(a, b, c, d, Geodesic.DISTANCE)["s12"]
            for a, b, c, d in zip(lat1.tolist(), lon1.tolist(), lat2.tolist(), lon2.tolist())
        ],
        dtype=np.float64,
    )
