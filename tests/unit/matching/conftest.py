"""Random match-file instances for the matcher's unit tests (pure: no app, no database)."""
from __future__ import annotations

import random

import pytest

CODES = ("SW01", "SW02", "SW03")
ATTRIBUTES = ("al2o3_pct", "moisture_pct")


def random_instance(
    seed: int,
    n_offers: int,
    n_demands: int,
    *,
    spread_deg: float = 1.5,
    tonnes=(1, 3),
    integer_tonnes: bool = True,
    rules: bool = True,
) -> dict:
    """A small Ordos market as match-file JSON; ``rules`` adds classes, limits and ranges."""
    rnd = random.Random(seed)

    def site():
        return (
            round(39.6 + rnd.uniform(-spread_deg, spread_deg) / 2, 5),
            round(109.5 + rnd.uniform(-spread_deg, spread_deg), 5),
        )

    def amount():
        if integer_tonnes:
            return rnd.randint(*tonnes)
        return round(rnd.uniform(*tonnes), 3)

    offers, demands = [], []
    for n in range(n_offers):
        lat, lon = site()
        offer = {"id": f"o{n}", "sw_code": rnd.choice(CODES), "tonnes": amount(), "lat": lat, "lon": lon}
        if rules:
            offer["class"] = rnd.choice(["I", "II", None])
            offer["quality"] = {a: round(rnd.uniform(0, 50), 1) for a in ATTRIBUTES if rnd.random() < 0.8}
            offer["max_km"] = rnd.choice([None, None, rnd.randint(60, 250)])
            offer["owner"] = rnd.choice([None, "e1", "e2", "e3"])
        offers.append(offer)
    for n in range(n_demands):
        lat, lon = site()
        demand = {
            "id": f"d{n}",
            "accepts": rnd.sample(CODES, rnd.randint(1, 2)),
            "tonnes": amount(),
            "lat": lat,
            "lon": lon,
        }
        if rules:
            demand["accepts_class"] = rnd.choice([None, None, ["I"], ["I", "II"]])
            demand["max_km"] = rnd.choice([None, rnd.randint(40, 200)])
            demand["owner"] = rnd.choice([None, "e1", "e2", "e3"])
            if rnd.random() < 0.4:
                name = rnd.choice(ATTRIBUTES)
                demand["limits"] = {name: rnd.choice([{"max": 40}, {"min": 10}, {"min": 5, "max": 45}])}
        demands.append(demand)
    return {"offers": offers, "demands": demands}


@pytest.fixture
def make_instance():
    return random_instance
