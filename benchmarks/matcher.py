"""Matcher scale benchmark: synthetic Ordos markets, end to end through match-file.

    .venv/bin/python benchmarks/matcher.py                 # 1k, 5k and 20k
    .venv/bin/python benchmarks/matcher.py --sizes 1000 5000 --highs-cap 120

For each size it writes an instance JSON (offers and demands scattered over
~400 × 300 km around 39.6 N 109.5 E, clustered around industrial parks; six
waste codes; 1–3 accepted codes per demand; demand max distance 50–300 km;
a few quality attributes and limits), runs the ``match-file`` click command
in a child process — reading the JSON to printing the result, so JSON I/O
and imports are measured — and reads the child's peak RSS from ``wait4``.
Where the dense LP is small enough, scipy's HiGHS solves the same problem
(max tonnes, then min tonne-km with tonnes fixed) in a child with a time cap,
for an independent check of the optimum.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CENTRE = (39.6, 109.5)
CODES = ["SW01", "SW02", "SW03", "SW04", "SW05", "SW06"]
ATTRIBUTES = {"al2o3_pct": (20, 55), "moisture_pct": (2, 25), "cao_pct": (1, 40), "so3_pct": (0, 6)}


def generate(n: int, seed: int = 0, demand_ratio: float = 1.0) -> dict:
    """An n-offer, n-demand market (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    parks = _points(rng, 14, spread=0.45)
    offers = [_offer(rng, f"o{i}", parks) for i in range(n)]
    demands = [_demand(rng, f"d{j}", parks) for j in range(n)]
    for d in demands:
        d["tonnes"] = max(0.001, round(d["tonnes"] * demand_ratio, 3))
    return {"offers": offers, "demands": demands}


def _points(rng, n: int, spread: float = 1.0) -> np.ndarray:
    """Uniform points in the 400 × 300 km box (degrees), optionally shrunk."""
    half_lat = 150 / 111.0 * spread
    half_lon = 200 / (111.32 * math.cos(math.radians(CENTRE[0]))) * spread
    lat = CENTRE[0] + rng.uniform(-half_lat, half_lat, n)
    lon = CENTRE[1] + rng.uniform(-half_lon, half_lon, n)
    return np.column_stack([lat, lon])


def _site(rng, parks) -> tuple[float, float]:
    if rng.random() < 0.6:  # most plants sit in an industrial park (σ ≈ 15 km)
        lat, lon = parks[rng.integers(len(parks))] + rng.normal(0, [0.135, 0.175])
    else:
        lat, lon = _points(rng, 1)[0]
    return round(float(lat), 5), round(float(lon), 5)


def _tonnes(rng) -> float:
    return round(float(np.clip(rng.lognormal(6.0, 1.0), 5, 20000)), 3)


def _offer(rng, oid: str, parks) -> dict:
    lat, lon = _site(rng, parks)
    quality = {
        name: round(float(rng.uniform(lo, hi)), 1)
        for name, (lo, hi) in ATTRIBUTES.items()
        if rng.random() < 0.85
    }
    return {
        "id": oid,
        "sw_code": CODES[rng.integers(len(CODES))],
        "tonnes": _tonnes(rng),
        "lat": lat,
        "lon": lon,
        "class": "I" if rng.random() < 0.7 else ("II" if rng.random() < 0.9 else None),
        "quality": quality,
        "max_km": float(rng.integers(100, 400)) if rng.random() < 0.3 else None,
    }


def _demand(rng, did: str, parks) -> dict:
    lat, lon = _site(rng, parks)
    accepts = sorted(rng.choice(CODES, size=rng.integers(1, 4), replace=False).tolist())
    limits = {}
    for name in rng.choice(list(ATTRIBUTES), size=rng.integers(0, 3), replace=False):
        lo, hi = ATTRIBUTES[name]
        if rng.random() < 0.5:
            limits[name] = {"max": round(lo + (hi - lo) * rng.uniform(0.6, 1.0), 1)}
        else:
            limits[name] = {"min": round(lo + (hi - lo) * rng.uniform(0.0, 0.4), 1)}
    return {
        "id": did,
        "accepts": accepts,
        "accepts_class": ["I"] if rng.random() < 0.25 else None,
        "tonnes": _tonnes(rng),
        "lat": lat,
        "lon": lon,
        "max_km": float(rng.integers(50, 301)),
        "limits": limits,
    }


def run_match_file(path: Path, out: Path) -> tuple[float, float, float, dict]:
    """Run the click command in a child; return wall s, CPU s, peak RSS (MB), result."""
    code = (
        "import sys; from wasteex.matching.cli import match_file_command; "
        "match_file_command.main(sys.argv[1:], prog_name='match-file')"
    )
    started = time.perf_counter()
    child = subprocess.Popen(
        [PYTHON, "-c", code, str(path), "--output", str(out), "--stats"], cwd=ROOT
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"match-file failed on {path}")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, json.loads(out.read_text())


HIGHS_CHILD = """
import json, sys, time
import numpy as np, scipy.sparse as sp
from scipy.optimize import linprog
sys.path.insert(0, sys.argv[2])
from matcher import dense_lp_pairs
inst = json.load(open(sys.argv[1]))
i, j, km = dense_lp_pairs(inst)
t0 = time.perf_counter()
s = np.array([o["tonnes"] for o in inst["offers"]]); d = np.array([x["tonnes"] for x in inst["demands"]])
n = i.size
rows = sp.vstack([sp.csr_matrix((np.ones(n), (i, np.arange(n))), shape=(s.size, n)),
                  sp.csr_matrix((np.ones(n), (j, np.arange(n))), shape=(d.size, n))]).tocsr()
b = np.concatenate([s, d])
first = linprog(-np.ones(n), A_ub=rows, b_ub=b, bounds=(0, None), method="highs")
best = -first.fun
second = linprog(km, A_ub=rows, b_ub=b, A_eq=np.ones((1, n)), b_eq=[best * (1 - 1e-9)],
                 bounds=(0, None), method="highs")
print(json.dumps({"matched": best, "tonne_km": second.fun, "seconds": time.perf_counter() - t0}))
"""


def dense_lp_pairs(inst: dict):
    """Every compatible pair with its km, for the LP.

    This reuses the matcher's dense enumeration (geopy would need ~minutes
    for the 1k×1k pairs): the benchmark compares *solvers* on one problem.
    The unit tests check the pairs and distances themselves against geopy.
    """
    sys.path.insert(0, str(ROOT))
    from wasteex.matching.arrays import Arrays
    from wasteex.matching.candidates import dense_pairs
    from wasteex.matching.instance import problem_from_json

    pairs = dense_pairs(Arrays(problem_from_json(inst)))
    return pairs.offer, pairs.demand, pairs.cost / 1000.0


def run_highs(path: Path, cap: float):
    """HiGHS on the dense LP in a child process, or None past ``cap`` seconds."""
    try:
        out = subprocess.run(
            [PYTHON, "-c", HIGHS_CHILD, str(path), str(Path(__file__).parent)],
            capture_output=True, text=True, timeout=cap, cwd=ROOT, check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--demand-ratio", type=float, default=1.0,
                        help="scale demand tonnages (1.0: as much demand as supply, the tightest)")
    parser.add_argument("--highs-cap", type=float, default=90.0, help="seconds; 0 disables HiGHS")
    parser.add_argument("--highs-max", type=int, default=5000, help="largest size given to HiGHS")
    parser.add_argument("--keep", type=Path, help="directory to keep the instance files in")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="matcher-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'size':>11} {'pairs':>9} {'solves':>6} {'wall s':>7} {'CPU s':>6} "
          f"{'peak MB':>7} {'matched t':>13} {'tonne-km':>15} {'opt':>4} {'HiGHS s':>8} "
          f"{'t ratio':>9} {'tkm ratio':>10}")
    for n in args.sizes:
        path = workdir / f"ordos-{n}.json"
        path.write_text(json.dumps(generate(n, args.seed, args.demand_ratio)))
        wall, cpu, peak, result = run_match_file(path, workdir / f"ordos-{n}.result.json")
        stats = result["stats"]
        row = (f"{n:>5}×{n:<5} {stats['candidate_pairs']:>9} {stats['rounds']:>6} "
               f"{wall:>7.2f} {cpu:>6.2f} {peak:>7.0f} "
               f"{result['matched_tonnes']:>13.3f} {result['tonne_km']:>15.3f} "
               f"{'yes' if result['optimal'] else 'NO':>4}")
        highs = run_highs(path, args.highs_cap) if 0 < args.highs_cap and n <= args.highs_max else None
        if highs:
            row += (f" {highs['seconds']:>8.1f} {result['matched_tonnes'] / highs['matched']:>9.6f}"
                    f" {result['tonne_km'] / highs['tonne_km']:>10.6f}")
        else:
            row += f" {'skipped' if n > args.highs_max or not args.highs_cap else 'timeout':>8}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
