"""Vectorised distances agree with geopy's geodesic (Karney), and the chord bounds them."""
import random

import numpy as np
from geopy.distance import geodesic

from wasteex.matching import geodesy


def _ordos_pairs(n, seed=3):
    rnd = random.Random(seed)
    pts = []
    for _ in range(n):
        lat1, lon1 = 39.6 + rnd.uniform(-2.2, 2.2), 109.5 + rnd.uniform(-3.0, 3.0)
        lat2, lon2 = 39.6 + rnd.uniform(-2.2, 2.2), 109.5 + rnd.uniform(-3.0, 3.0)
        pts.append((lat1, lon1, lat2, lon2))
    return np.array(pts)


def test_agrees_with_geopy_within_10_m_over_ordos_pairs():
    pts = _ordos_pairs(400)
    ours = geodesy.geodesic_m(pts[:, 0], pts[:, 1], pts[:, 2], pts[:, 3])
    theirs = np.array([geodesic((a, b), (c, d)).m for a, b, c, d in pts])
    assert theirs.max() > 450_000  # the sample reaches ~500 km
    assert np.abs(ours - theirs).max() < 10.0
    assert np.abs(ours - theirs).max() < 0.01  # in fact Vincenty is within a centimetre


def test_nearly_antipodal_and_degenerate_pairs_fall_back_to_exact():
    pairs = [
        (0.0, 0.0, 0.5, 179.7),  # Vincenty does not converge here
        (10.0, 20.0, -10.0, -160.0),  # exactly antipodal
        (39.6, 109.5, 39.6, 109.5),  # same point
        (90.0, 0.0, -90.0, 0.0),  # pole to pole
        (0.0, -179.9, 0.0, 179.9),  # across the antimeridian
    ]
    arr = np.array(pairs)
    ours = geodesy.geodesic_m(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
    theirs = [geodesic((a, b), (c, d)).m for a, b, c, d in pairs]
    assert np.allclose(ours, theirs, atol=0.01)


def test_chord_never_exceeds_the_geodesic():
    pts = _ordos_pairs(2000, seed=9)
    chord = geodesy.chord_m(geodesy.ecef(pts[:, 0], pts[:, 1]), geodesy.ecef(pts[:, 2], pts[:, 3]))
    arc = geodesy.geodesic_m(pts[:, 0], pts[:, 1], pts[:, 2], pts[:, 3])
    assert (chord <= arc + 1e-6).all()
    assert (arc - chord).max() < 400  # tight (≈ s³/24R²): the KD-tree prefilter wastes little


def test_empty_input():
    assert geodesy.geodesic_m([], [], [], []).shape == (0,)
