"""Load: 50 people for 3 minutes against gunicorn (4 workers) on PostgreSQL with a million ledger entries.

    make load                                          # installs locust (.[bench]) and runs this
    .venv/bin/python benchmarks/load.py --users 50 --seconds 180 [--reuse] [--keep] [--pg-url URL]

Steps: the database of ``benchmarks/ledger.py`` (1,000,000 chained entries over 300
enterprises; ``--reuse`` keeps a loaded one) with the demo data seeded on top (the demo
accounts, market, agreement and slips); gunicorn with 4 workers in production settings on
127.0.0.1 (the demo regulator without a second factor, so that a script can sign in); locust
headless with the users of ``benchmarks/load_users.py`` (browse and search offers, post
demands, propose and accept, take slips from draft to closed, open the cockpit). Then the
invariants, on the database itself:

- every offer and demand: ``total = remaining + agreed``, ``remaining >= 0``;
- every agreement: ``kg = remaining + planned on its live slips``, ``remaining >= 0``;
- every closed slip wrote its three ledger lines, and every chain verifies (``ledger verify``).

Prints the per-request table (count, failures, median, p95, max) and the verdict against the
targets: no errors, p95 under 300 ms for every page and API call (and for the mix) over the
work once everyone has signed in (signing in hashes the password with scrypt on purpose: it is
set-up, listed apart, and the work done while the users were still arriving is not counted).
Loopback only, bounded in time; not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "deploy"))

import cockpit as cockpit_bench  # noqa: E402 - the million-entry database, shared with the cockpit benchmark
import serving  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/wasteex_bench_load"
P95_TARGET_MS = 300

INVARIANTS = {
    "offers: total = remaining + agreed": """
        SELECT count(*) FROM offer o WHERE o.remaining_kg < 0 OR o.total_kg <> o.remaining_kg +
          COALESCE((SELECT sum(a.kg) FROM agreement a WHERE a.offer_id = o.id), 0)""",
    "demands: total = remaining + agreed": """
        SELECT count(*) FROM demand d WHERE d.remaining_kg < 0 OR d.total_kg <> d.remaining_kg +
          COALESCE((SELECT sum(a.kg) FROM agreement a WHERE a.demand_id = d.id), 0)""",
    "agreements: kg = remaining + on slips": """
        SELECT count(*) FROM agreement a WHERE a.remaining_kg < 0 OR a.kg <> a.remaining_kg +
          COALESCE((SELECT sum(s.planned_kg) FROM transfer_slip s
                    WHERE s.agreement_id = a.id AND s.status <> 'cancelled'), 0)""",
    "closed slips: three ledger lines each": """
        SELECT count(*) FROM transfer_slip s WHERE s.status = 'closed' AND (
          SELECT count(*) FROM ledger_entry e WHERE e.source = 'transfer'
            AND e.reference IN (s.number, s.number || '-O')) <> 3""",
}


def prepare(args, workdir: Path) -> dict[str, str]:
    """The loaded database plus the demo data; the environment the app processes run with."""
    url = cockpit_bench.prepare(args)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTEEX_")}
    env.update(WASTEEX_DATABASE_URL=url, WASTEEX_INSTANCE_PATH=str(workdir),
               WASTEEX_SECRET_KEY=os.urandom(32).hex(), WASTEEX_TOTP_REQUIRED_ROLES="",
               # The locust users sign in from one address, many times: not an attack here.
               WASTEEX_LOGIN_MAX_FAILURES="1000")
    serving.flask({**env, "WASTEEX_ENV": "development"}, workdir / "seed.log", "seed-demo")
    return {**env, "WASTEEX_ENV": "production", "WASTEEX_SESSION_COOKIE_SECURE": "false",
            "WASTEEX_SESSION_COOKIE_NAME": "session"}  # plain http on loopback, no TLS in front


def run_locust(base: str, args, workdir: Path) -> dict[str, list[tuple[float, bool]]]:
    """Run the users; every request's (milliseconds, failed) by request name. Work requests count from
    the moment the last person finished signing in (the steady state), set-up requests all."""
    timings = workdir / "timings.jsonl"
    subprocess.run([str(serving.APP_BIN / "locust"), "-f", str(ROOT / "benchmarks" / "load_users.py"), "--headless",
                    "--users", str(args.users), "--spawn-rate", "10", "--run-time", f"{args.seconds}s", "--host", base,
                    "--csv", str(workdir / "load"), "--only-summary", "--loglevel", "WARNING"],
                   cwd=ROOT, check=False, env={**os.environ, "WASTEEX_LOAD_TIMINGS": str(timings)},
                   stdout=open(workdir / "locust.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    with open(timings) as lines:
        records = [json.loads(line) for line in lines]
    steady = max(at for name, _ms, _failed, at in records if name.startswith("setup:"))
    by_name: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for name, ms, failed, at in records:
        if name.startswith("setup:") or at >= steady:
            by_name[name].append((ms, failed))
    return by_name


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def check_invariants(url: str, env: dict[str, str], workdir: Path) -> list[tuple[str, int]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        broken = [(name, conn.execute(text(sql)).scalar()) for name, sql in INVARIANTS.items()]
    engine.dispose()
    verify = subprocess.run([str(serving.APP_BIN / "flask"), "--app", "wasteex", "ledger", "verify"], cwd=ROOT,
                            env={**env, "WASTEEX_ENV": "development"}, capture_output=True, text=True)
    (workdir / "verify.log").write_text(verify.stdout + verify.stderr)
    broken.append(("every ledger chain verifies", verify.returncode))
    return broken


def print_report(by_name: dict[str, list[tuple[float, bool]]], broken: list[tuple[str, int]], args) -> bool:
    print(f"\nLoad: {args.users} users, {args.seconds} s, gunicorn 4 workers, PostgreSQL, "
          f"{args.entries:,} ledger entries; {os.cpu_count()} CPUs, 1-min load {os.getloadavg()[0]:.1f}")
    print(f"{'request':<34} {'count':>7} {'fail':>5} {'median':>8} {'p95':>8} {'max':>8}")
    work = {name: rows for name, rows in by_name.items() if not name.startswith("setup:")}
    slow = []  # the target holds for every page and API call, not only for the mix
    for name, rows in sorted(by_name.items(), key=lambda item: (item[0].startswith("setup:"), item[0])):
        times = [ms for ms, _failed in rows]
        p95 = percentile(times, 0.95)
        over = name in work and p95 > P95_TARGET_MS
        slow += [name] if over else []
        print(f"{name[:34]:<34} {len(rows):>7} {sum(f for _ms, f in rows):>5} {statistics.median(times):>6.0f}ms "
              f"{p95:>6.0f}ms {max(times):>6.0f}ms{'  over target' if over else ''}")
    times = [ms for rows in work.values() for ms, _failed in rows]
    errors = sum(failed for rows in by_name.values() for _ms, failed in rows)
    p95 = percentile(times, 0.95)
    print(f"{'all work, steady state':<34} {len(times):>7} {errors:>5} {statistics.median(times):>6.0f}ms "
          f"{p95:>6.0f}ms {max(times):>6.0f}ms")
    print("\ninvariants after the run:")
    for name, count in broken:
        print(f"  {name:<44} {'ok' if count == 0 else f'BROKEN ({count})'}")
    ok = errors == 0 and not slow and p95 <= P95_TARGET_MS and all(count == 0 for _, count in broken)
    print(f"\nerrors {errors}, p95 of the work {p95:.0f} ms, requests over {P95_TARGET_MS} ms at p95: "
          f"{', '.join(slow) or 'none'}: {'met' if ok else 'NOT met'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=300)
    parser.add_argument("--pg-url", default=os.environ.get("WASTEEX_BENCH_LOAD_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--reuse", action="store_true", help="reuse a database loaded by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="wasteex-load-"))
    env = prepare(args, workdir)
    port = serving.free_port()
    server = serving.start_gunicorn(env, workdir, port, workers=4)
    try:
        timings = run_locust(f"http://127.0.0.1:{port}", args, workdir)
    finally:
        serving.stop(server)
    ok = print_report(timings, check_invariants(env["WASTEEX_DATABASE_URL"], env, workdir), args)
    print(f"logs in {workdir}")
    if not args.keep:
        cockpit_bench.ledger_bench.drop_postgresql(args)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
