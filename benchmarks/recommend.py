"""Instant recommendations at 20,000 open listings, end to end through the API.

    .venv/bin/python benchmarks/recommend.py                       # SQLite file only
    .venv/bin/python benchmarks/recommend.py --pg-url postgresql+psycopg://root@127.0.0.1:5432/wasteex_bench_rec
    .venv/bin/python benchmarks/recommend.py --listings 5000 --requests 100 --compare-scan

Loads a synthetic Ordos market (verified enterprises with sites in industrial
parks, 6 waste codes, classes, quality values, demand limits and ranges; half
offers, half demands, all open) into a fresh database migrated with the real
migrations, then times ``GET /api/v1/{offers,demands}/<id>/recommendations``
through the Flask test client with a bearer token: the first call (which
builds the index), then random listings (median / p95 / max), a rebuild after
one listing changed (as another worker would change it), and the fingerprint
query alone. ``--compare-scan`` also times the previous implementation (SQL
bounding box, every candidate loaded as an ORM object and judged in Python).
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, insert, select, text, update  # noqa: E402

from wasteex import create_app  # noqa: E402
from wasteex.accounts import service as accounts  # noqa: E402
from wasteex.accounts.models import User  # noqa: E402
from wasteex.catalog.models import QualityAttribute, Route, WasteCategory  # noqa: E402
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Site  # noqa: E402
from wasteex.enterprises.uscc import make_uscc  # noqa: E402
from wasteex.extensions import db  # noqa: E402
from wasteex.geo import base_of  # noqa: E402
from wasteex.market import recommend  # noqa: E402
from wasteex.market.models import Demand, DemandCode, DemandLimit, Offer, OfferQuality  # noqa: E402
from wasteex.streams.models import WasteStream  # noqa: E402

CENTRE = (39.6, 109.5)
CODES = ["SW01", "SW02", "SW03", "SW04", "SW05", "SW06"]
DIVISIONS = ["150602", "150603", "150621", "150622", "150623", "150624", "150625", "150626", "150627"]
ATTRIBUTES = {"al2o3_pct": (20, 55), "moisture_pct": (2, 25), "loi_pct": (1, 15)}
DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/wasteex_bench_rec"


def _point(rng: random.Random, parks):
    """A site: 60 % in an industrial park (σ ≈ 15 km), the rest anywhere in a 400 × 300 km box."""
    if rng.random() < 0.6:
        lat, lon = rng.choice(parks)
        return lat + rng.gauss(0, 0.135), lon + rng.gauss(0, 0.175)
    return CENTRE[0] + rng.uniform(-1.35, 1.35), CENTRE[1] + rng.uniform(-2.35, 2.35)


def _decimal(value: float, places: str = "0.000001") -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places))


def _stamp(rng: random.Random, now: datetime, all_recent: bool) -> datetime:
    """When a listing last changed: over the last 90 days, as in a market that has been running
    (or all just now, ``--all-recent``: the worst case of the fingerprint's recent-rows list)."""
    return now if all_recent else now - timedelta(minutes=rng.randint(10, 90 * 24 * 60))


def load(listings: int, enterprises: int, seed: int, all_recent: bool = False) -> None:
    """The market, with Core inserts (the ORM would take minutes and measure nothing of interest)."""
    rng = random.Random(seed)
    session = db.session
    categories = dict(session.execute(select(WasteCategory.sw_code, WasteCategory.id)).all())
    attributes = dict(session.execute(select(QualityAttribute.key, QualityAttribute.id)).all())
    route_id = session.scalar(select(Route.id).order_by(Route.id))
    parks = [_point(rng, [CENTRE]) for _ in range(14)]
    now = datetime.now(timezone.utc)

    session.execute(insert(Enterprise), [dict(
        id=e, name=f"基准企业{e}", credit_code=make_uscc("9", "1", DIVISIONS[e % 9], f"{e:08d}"), is_producer=True,
        is_utiliser=e % 2 == 0, is_carrier=False, industry="火力发电", address="鄂尔多斯", division_code=DIVISIONS[e % 9],
        contact_name="王工", contact_phone="13800000000", status=EnterpriseStatus.VERIFIED) for e in range(1, enterprises + 1)])
    sites = []
    for e in range(1, enterprises + 1):
        for s in range(2):
            lat, lon = _point(rng, parks)
            sites.append(dict(id=len(sites) + 1, enterprise_id=e, name="厂区", code=f"S{s}", address="厂区路1号",
                              latitude=_decimal(lat), longitude=_decimal(lon), division_code=DIVISIONS[e % 9],
                              base=base_of(DIVISIONS[e % 9])))
    session.execute(insert(Site), sites)
    streams = [dict(id=n + 1, enterprise_id=site["enterprise_id"], site_id=site["id"], name="固废", gb_class="I",
                    category_id=categories[CODES[n % len(CODES)]], physical_form="powder", process_step="锅炉燃烧",
                    expected_annual_kg=10**8) for n, site in enumerate(sites)]
    session.execute(insert(WasteStream), streams)

    offers, qualities, demands, codes, limits = [], [], [], [], []
    half = listings // 2
    for n in range(1, half + 1):
        stream = rng.choice(streams)
        kg = rng.randint(1, 5000) * 1000
        offers.append(dict(id=n, enterprise_id=stream["enterprise_id"], stream_id=stream["id"], site_id=stream["site_id"],
                           sw_code=CODES[(stream["id"] - 1) % len(CODES)], gb_class=rng.choice(["I", "I", "II"]),
                           title=f"供应{n}", description="", supply="one_off", total_kg=kg, remaining_kg=kg,
                           price_per_t=Decimal(rng.randint(-50, 50)), transport_by="either",
                           max_km=rng.choice([None, None, rng.randint(50, 300)]), status="open", published_at=now,
                           changed_at=_stamp(rng, now, all_recent)))
        for key, (low, high) in ATTRIBUTES.items():
            if rng.random() < 0.8:
                qualities.append(dict(offer_id=n, attribute_id=attributes[key], value=_decimal(rng.uniform(low, high), "0.1"),
                                      measured_on=date(2025, 5, 1), declared=False))
    for n in range(1, listings - half + 1):
        site = rng.choice(sites)
        kg = rng.randint(1, 5000) * 1000
        demands.append(dict(id=n, enterprise_id=site["enterprise_id"], site_id=site["id"], title=f"需求{n}", description="",
                            accepts_class=rng.choice([["I"], ["I", "II"]]), route_id=route_id, supply="one_off",
                            total_kg=kg, remaining_kg=kg, max_km=rng.randint(50, 300), price_per_t=Decimal(rng.randint(-50, 50)),
                            status="open", published_at=now, changed_at=_stamp(rng, now, all_recent)))
        codes += [dict(demand_id=n, sw_code=c) for c in rng.sample(CODES, rng.randint(1, 3))]
        for key in rng.sample(list(ATTRIBUTES), rng.choice([0, 0, 1, 2])):
            low, high = ATTRIBUTES[key]
            cut = _decimal(rng.uniform(low, high), "0.1")
            limits.append(dict(demand_id=n, attribute_id=attributes[key],
                               min_value=cut if key == "al2o3_pct" else None, max_value=None if key == "al2o3_pct" else cut))
    for model, rows in ((Offer, offers), (OfferQuality, qualities), (Demand, demands), (DemandCode, codes),
                        (DemandLimit, limits)):
        for start in range(0, len(rows), 5000):
            session.execute(insert(model), rows[start:start + 5000])
    session.commit()
    if db.engine.dialect.name == "postgresql":  # the inserts gave explicit ids: move the sequences on
        with db.engine.begin() as conn:
            for table in ("enterprise", "site", "waste_stream", "offer", "demand"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))


def _figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms   max {ordered[-1]:7.2f} ms"


def _get(client, url: str, headers) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    return elapsed


def measure(app, url: str, args) -> dict:
    client = app.test_client()
    with app.app_context():
        user = User(email="bench@example.cn", name="基准", password_hash="x")
        db.session.add(user)
        db.session.commit()
        _, secret = accounts.issue_token(user, "bench")
        db.session.commit()
        n_offers = db.session.scalar(select(db.func.count(Offer.id)))
        n_demands = db.session.scalar(select(db.func.count(Demand.id)))
    headers = {"Authorization": f"Bearer {secret}"}
    rng = random.Random(args.seed + 1)
    offer_ids = [rng.randint(1, n_offers) for _ in range(args.requests)]
    demand_ids = [rng.randint(1, n_demands) for _ in range(args.requests)]
    out = {}
    first = _get(client, f"/api/v1/offers/{offer_ids[0]}/recommendations", headers)
    print(f"  first call (builds the index)          {first:8.1f} ms")
    for kind, ids in (("offers", offer_ids), ("demands", demand_ids)):
        samples = [_get(client, f"/api/v1/{kind}/{i}/recommendations", headers) for i in ids]
        out[kind] = samples
        print(f"  GET /api/v1/{kind}/<id>/recommendations  {_figures(samples)}   ({len(samples)} listings)")
    with app.app_context():
        cache = recommend._cache()
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            index = recommend.market_index()
            samples.append((time.perf_counter() - started) * 1000)
        print(f"  fingerprint (index fresh)              {_figures(samples)}")
        rebuilds, after = [], []
        for n in range(args.rebuilds):
            db.session.commit()  # end this session's read transaction (SQLite's readers block a writer)
            with db.engine.begin() as conn:  # another worker changes one listing
                conn.execute(update(Offer).where(Offer.id == offer_ids[n]).values(remaining_kg=Offer.remaining_kg - 1))
            after.append(_get(client, f"/api/v1/offers/{offer_ids[n + 1]}/recommendations", headers))
            rebuilds.append(cache.last_rebuild_seconds * 1000)
        print(f"  rebuild after a change (load + build)  {_figures(rebuilds)}   "
              f"(in-memory build {index.seconds * 1000:.0f} ms of it; {len(index.offers)} offers, {len(index.demands)} demands)")
        print(f"  first call after a change              {_figures(after)}")
    return out


def compare_scan(app, args) -> None:
    """The previous implementation: bounding box in SQL, every candidate an ORM object judged in Python."""
    import importlib.util
    import subprocess

    source = subprocess.run(["git", "show", "19b1500:wasteex/market/recommend.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("recommend_scan", loader=None)
    old = importlib.util.module_from_spec(spec)
    sys.modules["recommend_scan"] = old
    exec(compile(source, "recommend_scan.py", "exec"), old.__dict__)
    import wasteex.api.market as api_market
    client, rng = app.test_client(), random.Random(args.seed + 2)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "bench@example.cn"))
        _, secret = accounts.issue_token(user, "scan")
        db.session.commit()
        n = db.session.scalar(select(db.func.count(Offer.id)))
    headers = {"Authorization": f"Bearer {secret}"}
    api_market.recommend = old
    try:
        for kind in ("offers", "demands"):
            samples = [_get(client, f"/api/v1/{kind}/{rng.randint(1, n)}/recommendations", headers)
                       for _ in range(args.scan_requests)]
            print(f"  previous scan: /api/v1/{kind}/<id>/recommendations  {_figures(samples)}   ({len(samples)} listings)")
    finally:
        api_market.recommend = recommend


def run(url: str, label: str, args) -> None:
    print(f"\n{label}: {url}")
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        load(args.listings, args.enterprises, args.seed, args.all_recent)
        print(f"  loaded {args.listings} open listings over {args.enterprises} enterprises in "
              f"{time.perf_counter() - started:.1f} s")
    measure(app, url, args)
    if args.compare_scan:
        compare_scan(app, args)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _fresh_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=20_000, help="open listings, half offers, half demands")
    parser.add_argument("--enterprises", type=int, default=400)
    parser.add_argument("--requests", type=int, default=300, help="timed calls per endpoint")
    parser.add_argument("--rebuilds", type=int, default=5)
    parser.add_argument("--pg-url", nargs="?", const=DEFAULT_PG, default=os.environ.get("WASTEEX_BENCH_PG_URL"),
                        help=f"also PostgreSQL (default URL with no value: {DEFAULT_PG})")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--all-recent", action="store_true",
                        help="every listing changed within the last minutes (the fingerprint's worst case)")
    parser.add_argument("--compare-scan", action="store_true", help="also time the previous implementation")
    parser.add_argument("--scan-requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/recommend.sqlite", "SQLite", args)
    if args.pg_url:
        _fresh_postgres(args.pg_url)
        run(args.pg_url, "PostgreSQL", args)


if __name__ == "__main__":
    main()
