"""Regulator cockpit latency: the main page and each drill-down over the ledger benchmark's city.

    .venv/bin/python benchmarks/cockpit.py                 # PostgreSQL, 1,000,000 entries (load ~3 min)
    .venv/bin/python benchmarks/cockpit.py --keep          # keep the database afterwards
    .venv/bin/python benchmarks/cockpit.py --reuse         # measure a kept (or benchmarks/ledger.py --keep) database
    .venv/bin/python benchmarks/cockpit.py --entries 100000 --enterprises 60

The data are those of ``benchmarks/ledger.py`` (its ``load``: 300 enterprises over the nine
banners, 24 months of hash-chained entries and their monthly totals), loaded into PostgreSQL
through the real migrations. Each page is then requested ``--repeat`` times through Flask's test
client as a signed-in regulator (session cookie, as a browser would), outside any app context
so that every request is its own; the first request of each page warms nothing but its code.

Targets (issue 6): the main page < 1 s, each drill-down < 500 ms. The map's data
(``/api/v1/regulator/map``) is fetched by the main page after it renders; it is timed on its
own. It prints a table of medians; it is not a test.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import ledger as ledger_bench  # noqa: E402  (benchmarks/ledger.py: the city and its loader)
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from wasteex import create_app  # noqa: E402
from wasteex.catalog.models import Route  # noqa: E402
from wasteex.enterprises.models import Enterprise  # noqa: E402
from wasteex.extensions import db  # noqa: E402
from wasteex.accounts.models import User  # noqa: E402
from wasteex.ledger.models import MonthlyTotal  # noqa: E402
from wasteex.regulator import scenarios  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/wx_cockpit_bench"
REGULATOR = "bench-regulator@wasteex.invalid"
PASSWORD = "bench-password-not-secret"  # benchmarks/ledger.py hashes this for every user
MAIN_TARGET_S, DRILL_TARGET_S = 1.0, 0.5


def prepare(args) -> str:
    """The benchmark database, loaded with ledger.py's city unless --reuse finds entries in it."""
    url = ledger_bench.prepare_postgresql(args)
    app = create_app({"DATABASE_URL": url})
    logging.getLogger("alembic").setLevel(logging.WARNING)
    existing = ledger_bench.count_entries(app) if args.reuse else 0
    if existing:
        print(f"reusing {existing:,} entries in {make_url(url).render_as_string(hide_password=True)}")
        return url
    with app.app_context():
        upgrade()
        ledger_bench.ROUTE_LANDFILL_II = db.session.scalar(select(Route.id).where(Route.key == "landfill_class_ii"))
        db.session.remove()
        db.engine.dispose()
    report = ledger_bench.load(app, args, random.Random(args.seed))
    print(f"loaded {report.entries:,} entries, {report.enterprises} enterprises in {report.total_s:.0f} s", flush=True)
    return url


def pages(app) -> tuple[int, list[tuple[str, str, float]]]:
    """(label, path, target) for the last full year: the main page, the map data, every drill-down."""
    with app.app_context():
        year = db.session.scalar(select(func.max(MonthlyTotal.year)))
        largest = db.session.scalar(select(MonthlyTotal.enterprise_id).where(MonthlyTotal.year == year)
                                    .group_by(MonthlyTotal.enterprise_id)
                                    .order_by(func.sum(MonthlyTotal.quantity_kg).desc()).limit(1))
        industry = db.session.scalar(select(Enterprise.industry).where(Enterprise.id == largest))
        db.session.remove()
    y = f"year={year}"
    return year, [
        ("main page /regulator/", f"/regulator/?{y}", MAIN_TARGET_S),
        ("map data (API, after the page)", f"/api/v1/regulator/map?{y}", MAIN_TARGET_S),
        ("base: Jungar", f"/regulator/base/jungar?{y}", DRILL_TARGET_S),
        ("banner: 150624 Otog", f"/regulator/division/150624?{y}", DRILL_TARGET_S),
        ("waste code: SW02 fly ash", f"/regulator/sw_code/SW02?{y}", DRILL_TARGET_S),
        (f"industry: {industry}", f"/regulator/industry/{quote(industry)}?{y}", DRILL_TARGET_S),
        ("league table, sorted by rate", f"/regulator/enterprises?{y}&sort=rate", DRILL_TARGET_S),
        ("league table of a base, page 2", f"/regulator/enterprises?{y}&part=base&key=otog&page=2", DRILL_TARGET_S),
        ("one enterprise (the largest)", f"/regulator/enterprises/{largest}?{y}", DRILL_TARGET_S),
        ("annual release page", f"/regulator/report?{y}", DRILL_TARGET_S),
        ("table download: enterprises.xlsx", f"/regulator/tables/enterprises.xlsx?{y}", DRILL_TARGET_S),
    ]


def measure(url: str, repeat: int) -> tuple[int, list[tuple[str, list[float], float, int]]]:
    app = create_app({"DATABASE_URL": url})
    year, targets = pages(app)
    client = app.test_client()
    signed_in = client.post("/account/login", data={"email": REGULATOR, "password": PASSWORD})
    if signed_in.status_code != 302:
        raise SystemExit(f"the benchmark regulator could not sign in ({signed_in.status_code})")
    results = []
    for label, path, target in targets:
        times, size = [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} → {response.status_code}")
            size = len(response.data)
        results.append((label, times, target, size))
        print(f"  {label}: median {statistics.median(times) * 1000:,.0f} ms", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return year, results


def time_plan(url: str) -> tuple[float, str]:
    """The capacity-gap plan of the whole city, computed inline as without Redis: (seconds, attainable rate)."""
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        regulator = db.session.scalar(select(User).where(User.email == REGULATOR))
        run = scenarios.start_run(regulator, None)
        db.session.commit()
        started = time.perf_counter()
        run = scenarios.execute(run.id)
        seconds = time.perf_counter() - started
        rate, status = run.attainable_rate, run.status.value
        db.session.remove()
        db.engine.dispose()
    return seconds, f"{status}, attainable {rate}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=300)
    parser.add_argument("--pg-url", default=os.environ.get("WASTEEX_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database without reloading it")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args(argv)
    url = prepare(args)
    load_before = os.getloadavg()[0]
    year, results = measure(url, args.repeat)
    plan_seconds, plan_outcome = time_plan(url)
    if not args.keep and not args.reuse:
        ledger_bench.drop_postgresql(args)
    print(f"\nRegulator cockpit, PostgreSQL, {args.entries:,} entries, year {year}; {os.cpu_count()} CPUs, "
          f"1-min load {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; {args.repeat} runs each")
    print(f"{'page':<44} {'first':>8} {'min':>8} {'median':>8} {'target':>8}  ok   size")
    for label, times, target, size in results:
        ok = "yes" if statistics.median(times) <= target else "NO"
        print(f"{label:<44} {times[0] * 1000:>6.0f}ms {min(times) * 1000:>6.0f}ms "
              f"{statistics.median(times) * 1000:>6.0f}ms {target * 1000:>6.0f}ms  {ok:<4} {size / 1024:,.0f} KiB")
    print(f"capacity-gap plan, whole city, inline: {plan_seconds:.2f} s (target 30 s; {plan_outcome})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
