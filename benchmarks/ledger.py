"""Ledger scale benchmark: a million chained entries, the yearly rates and ``ledger verify``.

    .venv/bin/python benchmarks/ledger.py                          # both engines, 1,000,000 entries
    .venv/bin/python benchmarks/ledger.py --engine sqlite --entries 100000
    .venv/bin/python benchmarks/ledger.py --engine postgresql --keep   # keep the database afterwards
    .venv/bin/python benchmarks/ledger.py --engine both --reuse        # measure a kept database again

For each engine it creates the schema with the real migrations, loads 300
enterprises (valid credit codes, one site each spread over the 9 Ordos
banners, 1–4 waste streams each) and 24 months of ledger entries that form
valid hash chains exactly as ``chain_store.append`` writes them (``seal`` over
``entry_fields``), the chain heads and the maintained monthly totals. Then it
times, several runs each: the city-wide yearly rate, the base-level and
per-enterprise tables, the closing stock, ``GET /api/v1/stats/utilisation``
as a regulator, and a full ``ledger verify`` (every chain through
``chain_store.verify_enterprise``).

Targets (from the issue): yearly rate < 300 ms on either engine; verify over
a million entries < 60 s. It prints figures; it is not a test.

Where the data stays with ``--keep``: SQLite ``instance/bench.sqlite``;
PostgreSQL the database of ``--pg-url`` (default ``wasteex_bench``). The
regulator's bearer token is written to ``instance/bench-token.txt``.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from wasteex import create_app  # noqa: E402
from wasteex.accounts.models import Membership, User  # noqa: E402
from wasteex.accounts.passwords import hash_password  # noqa: E402
from wasteex.catalog.models import Route, WasteCategory, route_category  # noqa: E402
from wasteex.enterprises.models import Enterprise, Facility, Site  # noqa: E402
from wasteex.enterprises.uscc import make_uscc  # noqa: E402
from wasteex.extensions import db  # noqa: E402
from wasteex.geo import DIVISIONS, GAZETTEER, base_of  # noqa: E402
from wasteex.ledger import chain_store  # noqa: E402
from wasteex.ledger.chain import seal  # noqa: E402
from wasteex.ledger.chain_store import HASHED_COLUMNS, entry_fields  # noqa: E402
from wasteex.ledger.models import EntryKind, EntrySource, LedgerChain, LedgerEntry, MonthlyTotal  # noqa: E402
from wasteex.ledger.stats import StatsFilter, _accumulate, closing_stock_kg, flow_by, flow_totals  # noqa: E402
from wasteex.streams.models import WasteStream  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/wasteex_bench"
KEEP_SQLITE = ROOT / "instance" / "bench.sqlite"
TOKEN_FILE = ROOT / "instance" / "bench-token.txt"
RATE_TARGET_S = 0.300
VERIFY_TARGET_S = 60.0
UTC = timezone.utc

ENTRY_COLUMNS = ("id", *HASHED_COLUMNS, "canonical", "prev_hash", "hash")
ENUM_COLUMNS = {"kind", "source"}

# ----------------------------------------------------------------------------- the synthetic city

# Industrial banners weigh more: the three demonstration bases first.
DIVISION_WEIGHTS = {"150622": 22, "150624": 18, "150626": 14, "150627": 12, "150621": 10,
                    "150602": 7, "150625": 6, "150623": 6, "150603": 5}
WORDS = ("伊泰", "汇能", "久泰", "君正", "亿利", "东华", "蒙泰", "鄂绒", "荣信", "新奥", "中天", "西部",
         "北方", "金诚", "恒泰", "华润", "国电", "同煤", "神东", "准能", "宝丰", "博源", "鑫旺", "远兴",
         "大地", "天润", "瑞德", "庆华", "达拉", "乌兰")
HANDLERS = ("李建国", "王海涛", "张丽娟", "刘志强", "陈晓东", "杨文斌", "赵永红", "黄金花", "周立新", "吴海燕")
CARRIERS = ("鄂尔多斯市通达物流运输有限公司", "准格尔旗顺达运输有限责任公司", "乌审旗宏远物流有限公司",
            "鄂托克旗汇丰运输有限公司", "伊金霍洛旗安顺物流有限公司")


@dataclass(frozen=True)
class StreamTemplate:
    sw_code: str
    name: str
    annual_t: tuple[int, int]
    form: str
    own_routes: tuple[str, ...]  # self-utilisation routes (empty: sends everything out)
    out_routes: tuple[str, ...]
    gb_class: str = "I"


FLY_ASH = StreamTemplate("SW02", "粉煤灰", (150_000, 900_000), "powder", ("autoclaved_brick", "alumina_extraction"),
                         ("cement_admixture", "road_base", "ceramsite", "sintered_brick"))
GYPSUM = StreamTemplate("SW06", "脱硫石膏", (40_000, 260_000), "powder", ("gypsum_powder",),
                        ("gypsum_board", "cement_retarder", "soil_conditioner"))
GANGUE = StreamTemplate("SW04", "洗选煤矸石", (300_000, 1_500_000), "solid", ("mine_backfill", "gangue_power"),
                        ("sintered_brick", "ceramsite", "road_base", "calcined_kaolin"))
COARSE_SLAG = StreamTemplate("SW59", "气化粗渣", (150_000, 600_000), "solid", (),
                             ("ceramsite", "road_base", "sintered_brick", "mine_backfill"), "II")
FINE_SLAG = StreamTemplate("SW59", "气化细渣", (80_000, 300_000), "sludge", ("carbon_recovery",),
                           ("carbon_recovery", "fertiliser_admixture"), "II")
CARBIDE = StreamTemplate("SW16", "电石渣", (200_000, 700_000), "sludge", ("cement_raw_meal", "fgd_sorbent"),
                         ("cement_raw_meal", "autoclaved_brick", "nano_caco3"))
SMELTING = StreamTemplate("SW01", "硅锰/硅铁冶炼渣", (60_000, 400_000), "solid", ("slag_powder",),
                          ("slag_powder", "cement_admixture", "road_base", "white_carbon_black"))

INDUSTRIES = (  # (industry, stream templates, weight)
    ("火力发电", (FLY_ASH, GYPSUM), 18),
    ("煤炭开采和洗选", (GANGUE, GANGUE, GANGUE), 30),
    ("煤制烯烃", (COARSE_SLAG, FINE_SLAG, FLY_ASH, GYPSUM), 10),
    ("煤制甲醇", (COARSE_SLAG, FINE_SLAG, FLY_ASH), 10),
    ("电石及聚氯乙烯", (CARBIDE, FLY_ASH, GYPSUM), 12),
    ("铁合金冶炼", (SMELTING, FLY_ASH), 12),
    ("煤化工", (COARSE_SLAG, FLY_ASH, GYPSUM, FINE_SLAG), 8),
)
PRODUCTS = {"autoclaved_brick": "蒸压粉煤灰砖", "alumina_extraction": "氧化铝", "gypsum_powder": "建筑石膏粉",
            "mine_backfill": "井下充填料", "gangue_power": "矸石电力", "carbon_recovery": "精碳粉",
            "cement_raw_meal": "水泥生料", "fgd_sorbent": "脱硫剂", "slag_powder": "超细粉"}

# Entry kinds, the order they are written within a day, and how extra entries are shared among them.
KIND_ORDER = {EntryKind.GENERATION: 0, EntryKind.STORAGE_IN: 1, EntryKind.STORAGE_OUT: 2,
              EntryKind.SELF_UTILISATION: 3, EntryKind.ENTRUSTED_UTILISATION: 4, EntryKind.SELF_DISPOSAL: 5}
KIND_WEIGHT = {EntryKind.GENERATION: 30, EntryKind.ENTRUSTED_UTILISATION: 26, EntryKind.SELF_DISPOSAL: 16,
               EntryKind.STORAGE_IN: 12, EntryKind.SELF_UTILISATION: 10, EntryKind.STORAGE_OUT: 6}


@dataclass
class StreamPlan:
    id: int
    enterprise_id: int
    site_id: int
    sw_code: str
    annual_kg: int
    own_route: int | None
    own_product: str | None
    out_route: int
    receivers: list[tuple[str, str, int]]  # (name, credit code, enterprise id)
    base: str
    division: str
    facilities: dict[str, int]


@dataclass
class KindPlan:
    kind: EntryKind
    prior: bool
    kg: int
    count: int = 1


@dataclass
class CityPlan:
    enterprises: list[dict]
    sites: list[dict]
    facilities: list[dict]
    users: list[dict]
    memberships: list[dict]
    streams: list[dict]
    stream_plans: list[StreamPlan]
    months: list[tuple[int, int]]
    # (stream index, month index) → kinds with quantities and entry counts
    month_plans: dict[tuple[int, int], list[KindPlan]] = field(default_factory=dict)
    carriers: list[str] = field(default_factory=list)


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (exact sum)."""
    wsum = sum(weights)
    if total <= 0 or wsum <= 0:
        return [0] * len(weights)
    raw = [total * w / wsum for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def plan_city(rng: random.Random, n_enterprises: int, n_entries: int, first_year: int,
              category_ids: dict[str, int], route_ids: dict[str, int], password_hash: str) -> CityPlan:
    divisions = list(DIVISION_WEIGHTS)
    places = defaultdict(list)
    for place in GAZETTEER:
        places[place.division_code].append(place)
    now = datetime(first_year, 1, 1, tzinfo=UTC)
    enterprises, sites, facilities, users, memberships = [], [], [], [], []
    users.append(dict(id=1, email="bench-regulator@wasteex.invalid", name="基准测试监管员", password_hash=password_hash,
                      platform_role="regulator", session_token=f"bench-reg-{rng.getrandbits(64):x}", active=True))
    industry_of = {}
    for i in range(1, n_enterprises + 1):
        division = divisions[i - 1] if i <= len(divisions) else _weighted(rng, DIVISION_WEIGHTS)
        industry, _templates, _w = rng.choices(INDUSTRIES, weights=[w for *_x, w in INDUSTRIES])[0]
        industry_of[i] = industry
        word = WORDS[(i - 1) % len(WORDS)] + WORDS[((i - 1) // len(WORDS) + 7 * i) % len(WORDS)]
        name = f"鄂尔多斯市{word}{industry}有限公司（{i:03d}）"
        credit = make_uscc("9", "1", division, f"{10_000_000 + i * 7919:08d}")
        place = rng.choice(places[division])
        address = f"内蒙古自治区鄂尔多斯市{DIVISIONS[division].name_zh}{place.name_zh}"
        enterprises.append(dict(
            id=i, name=name, credit_code=credit, is_producer=True, is_utiliser=(i % 5 == 0), is_carrier=(i % 29 == 0),
            industry=industry, address=address, division_code=division, contact_name=rng.choice(HANDLERS),
            contact_phone="139" + f"{rng.randrange(10**8):08d}", status="verified", reviewed_at=now))
        lat = place.lat + Decimal(rng.randint(-20000, 20000)) / 1_000_000
        lon = place.lon + Decimal(rng.randint(-20000, 20000)) / 1_000_000
        sites.append(dict(id=i, enterprise_id=i, name="主厂区", code="S01", address=address, latitude=lat,
                          longitude=lon, division_code=division, base=base_of(division).value))
        for k, (kind, code, fname) in enumerate((("generation", "CS-01", "产生设施"), ("storage", "ZC-01", "贮存场"),
                                                  ("self_utilisation", "LY-01", "厂内综合利用线"),
                                                  ("self_disposal", "CZ-01", "自建Ⅱ类填埋场"))):
            facilities.append(dict(id=(i - 1) * 4 + k + 1, site_id=i, kind=kind, code=code, name=fname,
                                   responsible_person=rng.choice(HANDLERS), active=True))
        users.append(dict(id=i + 1, email=f"bench-admin-{i:03d}@wasteex.invalid", name=f"台账管理员{i:03d}",
                          password_hash=password_hash, platform_role="none",
                          session_token=f"bench-{i}-{rng.getrandbits(64):x}", active=True))
        memberships.append(dict(id=i, user_id=i + 1, enterprise_id=i, role="admin"))

    utilisers = [(e["name"], e["credit_code"], e["id"]) for e in enterprises if e["is_utiliser"]]
    carriers = [e["name"] for e in enterprises if e["is_carrier"]] + list(CARRIERS)
    streams, plans = [], []
    for e in enterprises:
        templates = dict((name, t) for name, t, _w in INDUSTRIES)[industry_of[e["id"]]]
        count = rng.randint(1, min(4, len(templates)))
        seen = defaultdict(int)
        for t in templates[:count]:
            seen[t.name] += 1
            label = t.name if seen[t.name] == 1 else f"{t.name}（{seen[t.name]}号洗煤厂）"
            annual_kg = rng.randint(*t.annual_t) * 1000
            own = rng.choice(t.own_routes) if t.own_routes and rng.random() < 0.55 else None
            out = rng.choice(t.out_routes)
            sid = len(streams) + 1
            fac = {k: (e["id"] - 1) * 4 + n + 1 for n, k in enumerate(("CS", "ZC", "LY", "CZ"))}
            streams.append(dict(
                id=sid, enterprise_id=e["id"], site_id=e["id"], name=label, category_id=category_ids[t.sw_code],
                gb_class=t.gb_class, physical_form=t.form, process_step="主生产工艺", generating_facility_id=fac["CS"],
                storage_facility_id=fac["ZC"], main_components="", hazardous_components="",
                expected_annual_kg=annual_kg, planned_route_id=route_ids[own or out], active=True))
            receivers = rng.sample([u for u in utilisers if u[2] != e["id"]], k=min(3, len(utilisers) - 1) or 1) \
                if len(utilisers) > 1 else [("鄂尔多斯市综合利用有限公司", make_uscc("9", "1", "150602", "00000001"), 0)]
            plans.append(StreamPlan(sid, e["id"], e["id"], t.sw_code, annual_kg, route_ids[own] if own else None,
                                    PRODUCTS.get(own) if own else None, route_ids[out], receivers,
                                    base_of(e["division_code"]).value, e["division_code"], fac))

    months = [(first_year + m // 12, m % 12 + 1) for m in range(24)]
    city = CityPlan(enterprises, sites, facilities, users, memberships, streams, plans, months, carriers=carriers)
    _plan_quantities(rng, city, n_entries)
    return city


def _plan_quantities(rng: random.Random, city: CityPlan, n_entries: int) -> None:
    """Monthly quantities per stream that balance by construction, then entry counts summing to n_entries.

    generated = self-utilised + sent out (own generation) + stored net + landfilled;
    same-year stock is partly drawn (storage_out → entrusted utilisation) and,
    in the second year, prior years' stock too (flagged from_prior_storage).
    """
    for s_index, plan in enumerate(city.stream_plans):
        year_stock = prior_stock = 0
        for m_index, (year, month) in enumerate(city.months):
            if month == 1 and m_index:
                prior_stock, year_stock = prior_stock + year_stock, 0
            generated = int(plan.annual_kg / 12 * rng.uniform(0.85, 1.15))
            own = int(generated * rng.uniform(0.08, 0.16)) if plan.own_route else 0
            out = int(generated * (rng.uniform(0.30, 0.40) + m_index / 24 * 0.06))
            stored_in = int(generated * rng.uniform(0.12, 0.22))
            drawn = int(year_stock * rng.uniform(0.15, 0.35))
            year_stock += stored_in - drawn
            prior = int(min(prior_stock, generated * rng.uniform(0.03, 0.08))) if prior_stock else 0
            prior_stock -= prior
            landfill = generated - own - out - stored_in
            kinds = [KindPlan(EntryKind.GENERATION, False, generated), KindPlan(EntryKind.STORAGE_IN, False, stored_in),
                     KindPlan(EntryKind.ENTRUSTED_UTILISATION, False, out + drawn),
                     KindPlan(EntryKind.SELF_DISPOSAL, False, landfill)]
            if own:
                kinds.append(KindPlan(EntryKind.SELF_UTILISATION, False, own))
            if drawn:
                kinds.append(KindPlan(EntryKind.STORAGE_OUT, False, drawn))
            if prior:
                kinds += [KindPlan(EntryKind.STORAGE_OUT, True, prior),
                          KindPlan(EntryKind.ENTRUSTED_UTILISATION, True, prior)]
            city.month_plans[(s_index, m_index)] = [k for k in kinds if k.kg > 0]

    minimum = sum(len(k) for k in city.month_plans.values())
    if n_entries < minimum:
        raise SystemExit(f"--entries must be at least {minimum:,} for this city (one entry per kind and month)")
    keys = list(city.month_plans)
    # Larger streams ship more truckloads: extra entries grow with the square root of the tonnage.
    weights = [city.stream_plans[s].annual_kg ** 0.5 for s, _m in keys]
    for key, extra in zip(keys, _largest_remainder(n_entries - minimum, weights)):
        kinds = city.month_plans[key]
        shares = [0 if k.prior else KIND_WEIGHT[k.kind] for k in kinds]
        for k, more in zip(kinds, _largest_remainder(extra, shares)):
            k.count += more
            if k.count > k.kg:  # never split below 1 kg an entry
                kinds[0].count += k.count - k.kg
                k.count = k.kg


def _split_kg(rng: random.Random, kg: int, count: int) -> list[int]:
    if count == 1:
        return [kg]
    if kg < 10 * count:
        return [kg // count + (1 if i < kg % count else 0) for i in range(count)]
    weights = [rng.uniform(0.6, 1.4) for _ in range(count)]
    total = sum(weights)
    parts = [max(1, int(kg * w / total)) for w in weights]
    parts[-1] += kg - sum(parts)
    return parts


# ----------------------------------------------------------------------------- loading


class SqliteWriter:
    """Core ``insert()`` executemany in batches, one transaction per batch."""

    def __init__(self, conn, batch: int = 20_000):
        self.conn, self.batch, self.rows, self.table = conn, batch, [], LedgerEntry.__table__

    def write(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.conn.execute(insert(self.table), [dict(zip(ENTRY_COLUMNS, r)) for r in self.rows])
            self.conn.commit()
            self.rows = []

    def close(self) -> None:
        self.flush()


class PgWriter:
    """psycopg COPY on the raw connection: one COPY for the whole load."""

    def __init__(self, raw):
        self.raw = raw
        self.cursor = raw.cursor()
        columns = ", ".join(f'"{c}"' for c in ENTRY_COLUMNS)
        self._copy_cm = self.cursor.copy(f"COPY ledger_entry ({columns}) FROM STDIN")
        self.copy = self._copy_cm.__enter__()

    def write(self, row: tuple) -> None:
        self.copy.write_row(row)

    def close(self) -> None:
        self._copy_cm.__exit__(None, None, None)
        self.raw.commit()


@dataclass
class LoadReport:
    entries: int
    enterprises: int
    streams: int
    monthly_rows: int
    generate_s: float
    insert_s: float
    finish_s: float
    total_s: float


def load(app, args, rng: random.Random) -> LoadReport:
    started = time.perf_counter()
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        with engine.connect() as conn:
            category_ids = dict(conn.execute(select(WasteCategory.sw_code, WasteCategory.id)).all())
            route_ids = dict(conn.execute(select(Route.key, Route.id)).all())
            fits = defaultdict(set)
            for route_id, sw in conn.execute(select(route_category.c.route_id, WasteCategory.sw_code)
                                             .join(WasteCategory, WasteCategory.id == route_category.c.category_id)):
                fits[route_id].add(sw)
        first_year = date.today().year - 2
        city = plan_city(rng, args.enterprises, args.entries, first_year, category_ids, route_ids,
                         hash_password("bench-password-not-secret", "scrypt:1024:8:1"))
        for plan in city.stream_plans:  # the routes must fit the waste, as build_entry checks
            for rid in (plan.own_route, plan.out_route):
                assert rid is None or not fits[rid] or plan.sw_code in fits[rid], (plan, rid)
        with engine.begin() as conn:
            for model, rows in ((User, city.users), (Enterprise, city.enterprises), (Site, city.sites),
                                (Facility, city.facilities), (Membership, city.memberships),
                                (WasteStream, city.streams)):
                conn.execute(insert(model.__table__), rows)

        conn = engine.connect()
        if dialect == "sqlite":
            # On the driver connection, before SQLAlchemy begins a transaction on it (the
            # app may emit BEGIN itself): neither pragma can change inside a transaction.
            driver = conn.connection.driver_connection
            driver.execute("PRAGMA journal_mode=WAL")
            driver.execute("PRAGMA synchronous=OFF")
            writer = SqliteWriter(conn)
            raw = None
        else:
            raw = engine.raw_connection()
            writer = PgWriter(raw.driver_connection)
        heads, totals, gen_s, count = _write_entries(rng, city, writer)
        t_write_done = time.perf_counter()

        chain_rows = [dict(enterprise_id=eid, seq=seq, head_hash=h) for eid, (seq, h) in sorted(heads.items())]
        place = {p.id: (p.base, p.division) for p in city.stream_plans}
        monthly = [dict(id=i, enterprise_id=k[0], stream_key=k[1], sw_code=k[2], year=k[3], month=k[4], kind=k[5],
                        from_prior_storage=k[6], base=place[k[1]][0], division_code=place[k[1]][1], quantity_kg=kg)
                   for i, (k, kg) in enumerate(sorted(totals.items()), start=1)]
        with engine.begin() as c2:
            c2.execute(insert(LedgerChain.__table__), chain_rows)
            c2.execute(insert(MonthlyTotal.__table__), monthly)
        if dialect == "sqlite":
            conn.close()
            engine.dispose()
            plain = sqlite3.connect(engine.url.database)
            plain.execute("PRAGMA journal_mode=DELETE")  # what the application runs with (checkpoints the WAL)
            plain.close()
        else:
            raw.close()
            conn.close()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as ac:
                for table in ("user", "enterprise", "site", "facility", "membership", "waste_stream",
                              "ledger_entry", "ledger_monthly_total"):
                    ac.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                       f"(SELECT MAX(id) FROM \"{table}\"))")
                ac.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum does soon after a bulk load
        engine.dispose()
    finished = time.perf_counter()
    total = finished - started
    return LoadReport(count, len(city.enterprises), len(city.streams), len(monthly), gen_s,
                      t_write_done - started - gen_s, finished - t_write_done, total)


def _write_entries(rng: random.Random, city: CityPlan, writer) -> tuple[dict, dict, float, int]:
    """Month by month, enterprise by enterprise (how entries arrive), each chain sealed in order."""
    heads: dict[int, tuple[int, str]] = {}
    totals: dict[tuple, int] = defaultdict(int)
    by_enterprise = defaultdict(list)
    for s_index, plan in enumerate(city.stream_plans):
        by_enterprise[plan.enterprise_id].append((s_index, plan))
    admin_of = {m["enterprise_id"]: m["user_id"] for m in city.memberships}
    sources = (EntrySource.FORM, EntrySource.FORM, EntrySource.IMPORT, EntrySource.API)
    next_id, gen_s, w_s = 1, 0.0, 0.0
    t0 = time.perf_counter()
    for m_index, (year, month) in enumerate(city.months):
        days = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
        for eid in sorted(by_enterprise):
            pending = []
            for s_index, plan in by_enterprise[eid]:
                for kp in city.month_plans[(s_index, m_index)]:
                    for i, kg in enumerate(_split_kg(rng, kp.kg, kp.count)):
                        day = 1 + (i * days) // kp.count
                        pending.append((day, KIND_ORDER[kp.kind], kp.prior, plan, kp.kind, kg))
            pending.sort(key=lambda p: (p[0], p[1], p[2], p[3].id))
            seq, prev = heads.get(eid, (0, chain_store.GENESIS))
            for day, _order, prior, plan, kind, kg in pending:
                seq += 1
                entry = _entry(rng, eid, seq, plan, kind, prior, date(year, month, day), kg, admin_of[eid], sources,
                               city.carriers)
                entry.canonical, entry.hash = seal(prev, entry_fields(entry))
                entry.prev_hash, prev = prev, entry.hash
                totals[(eid, plan.id, plan.sw_code, year, month, kind.value, prior)] += kg
                row = tuple(getattr(entry, c) for c in ENTRY_COLUMNS[1:])
                t1 = time.perf_counter()
                writer.write((next_id, *(_db_value(c, v) for c, v in zip(ENTRY_COLUMNS[1:], row))))
                w_s += time.perf_counter() - t1
                next_id += 1
            heads[eid] = (seq, prev)
        print(f"  {year}-{month:02d}: {next_id - 1:>10,} entries  {time.perf_counter() - t0:7.1f} s", flush=True)
    t1 = time.perf_counter()
    writer.close()
    w_s += time.perf_counter() - t1
    gen_s = time.perf_counter() - t0 - w_s
    return heads, totals, gen_s, next_id - 1


def _db_value(column: str, value):
    return value.value if column in ENUM_COLUMNS else value


def _entry(rng, eid, seq, plan: StreamPlan, kind: EntryKind, prior: bool, day: date, kg: int, admin: int,
           sources, carriers) -> SimpleNamespace:
    """The fields build_entry would set for this kind (kinds.RULES): facility, route, counterparty, shipment."""
    recorded = datetime(day.year, day.month, day.day, rng.randrange(6, 22), rng.randrange(60), rng.randrange(60),
                        rng.randrange(1_000_000), tzinfo=UTC) + timedelta(days=rng.choice((0, 0, 0, 1, 2)))
    e = SimpleNamespace(
        enterprise_id=eid, seq=seq, kind=kind, stream_id=plan.id, sw_code=plan.sw_code, period_date=day,
        quantity_kg=kg, from_prior_storage=prior, facility_id=None, route_id=None, handler=HANDLERS[(eid + seq) % 10],
        counterparty_name=None, counterparty_credit_code=None, carrier_name=None, plate_number=None,
        contract_number=None, product=None, reference=None, source=rng.choice(sources), corrects_id=None,
        reason=None, recorded_by_id=admin, recorded_at=recorded)
    if kind is EntryKind.GENERATION:
        e.facility_id = plan.facilities["CS"]
    elif kind in (EntryKind.STORAGE_IN, EntryKind.STORAGE_OUT):
        e.facility_id = plan.facilities["ZC"]
    elif kind is EntryKind.SELF_UTILISATION:
        e.facility_id, e.route_id, e.product = plan.facilities["LY"], plan.own_route, plan.own_product
    elif kind is EntryKind.SELF_DISPOSAL:
        e.facility_id, e.route_id = plan.facilities["CZ"], ROUTE_LANDFILL_II
    elif kind is EntryKind.ENTRUSTED_UTILISATION:
        name, code, rid = plan.receivers[seq % len(plan.receivers)]
        e.route_id, e.counterparty_name, e.counterparty_credit_code = plan.out_route, name, code
        e.carrier_name = carriers[(eid + rid) % len(carriers)]
        e.plate_number = f"蒙K{rng.randrange(10000, 100000)}"
        e.contract_number = f"HT-{day.year}-{eid:03d}-{rid:03d}"
        e.reference = f"LD{day.year}{day.month:02d}-{seq:07d}"
    return e


ROUTE_LANDFILL_II: int | None = None


# ----------------------------------------------------------------------------- measuring


@dataclass
class Timing:
    label: str
    times: list[float]
    target: float | None = None
    note: str = ""

    @property
    def first(self) -> float:
        return self.times[0]

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def _pct(rate) -> str:
    return "n/a" if rate is None else f"{float(rate) * 100:.2f} %"


def measure(app, args, year: int, n_expected: int | None) -> tuple[list[Timing], dict]:
    timings, facts = [], {}
    repeat = args.repeat
    with app.app_context():
        flt = StatsFilter(year=year)
        facts["year"] = year

        def city():
            totals = flow_totals(flt)
            return totals, totals.utilisation_rate

        (totals, rate), t = _timed(city, repeat)
        timings.append(Timing(f"city-wide yearly rate ({year})", t, RATE_TARGET_S, _pct(rate)))
        facts["city_rate"], facts["city_totals"] = rate, totals
        facts["balance_kg"] = totals.balance_difference()

        def by_base():
            return {k.value: v.utilisation_rate for k, v in flow_by(flt, "base").items()}

        bases, t = _timed(by_base, repeat)
        timings.append(Timing("base-level yearly rates", t, RATE_TARGET_S,
                              " ".join(f"{k}={_pct(v)}" for k, v in sorted(bases.items()))))

        def league():
            rows = flow_by(flt, "enterprise")
            return sorted(((v.utilisation_rate or 0, k) for k, v in rows.items()), reverse=True)

        table, t = _timed(league, repeat)
        timings.append(Timing("per-enterprise league table", t, RATE_TARGET_S, f"{len(table)} enterprises"))

        stock, t = _timed(lambda: closing_stock_kg(flt), repeat)
        timings.append(Timing("closing stock", t, RATE_TARGET_S, f"{stock / 1000:,.0f} t"))

        # Reference only: the same city-wide figures straight from ledger_entry (no maintained totals).
        e = LedgerEntry.__table__
        raw_stmt = (select(e.c.kind, e.c.from_prior_storage, func.sum(e.c.quantity_kg))
                    .where(e.c.period_date >= date(year, 1, 1), e.c.period_date <= date(year, 12, 31))
                    .group_by(e.c.kind, e.c.from_prior_storage))
        raw, t = _timed(lambda: db.session.execute(raw_stmt).all(), max(1, min(repeat, 3)))
        raw_totals = _accumulate((None, EntryKind(k) if isinstance(k, str) else k, p, kg) for k, p, kg in raw)[None]
        same = raw_totals == totals
        timings.append(Timing("(ref) same rate summed from ledger_entry", t, None,
                              "matches totals" if same else "MISMATCH with monthly totals"))
        facts["totals_match_entries"] = same
        db.session.remove()

    http = measure_http(app, year, repeat, facts, keep_token=args.keep)
    if http is not None:
        timings.append(http)

    with app.app_context():
        workers = args.verify_workers or os.cpu_count() or 1
        parallel = hasattr(chain_store, "verify_all")  # the proposed parallel walk, once it exists

        def verify():
            # What `flask ledger verify` does: every chained enterprise's chain, walked in full.
            ids = chain_store.chained_enterprises()
            if parallel:
                reports = [report for _eid, report in chain_store.verify_all(ids, workers=workers)]
            else:
                reports = [chain_store.verify_enterprise(eid) for eid in ids]
            db.session.remove()
            return ids, reports

        if args.profile_verify:
            profiler = cProfile.Profile()
            profiler.enable()
        cpu0 = time.process_time() + _children_cpu()
        (ids, reports), t = _timed(verify, args.verify_repeat)
        cpu = (time.process_time() + _children_cpu() - cpu0) / args.verify_repeat
        if args.profile_verify:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            facts["verify_profile"] = out.getvalue()
        checked = sum(r.count for r in reports)
        bad = [(eid, r.broken) for eid, r in zip(ids, reports) if not r.ok]
        facts["verify_checked"], facts["verify_bad"] = checked, bad
        note = (f"{len(ids)} chains, {checked:,} entries, {checked / min(t):,.0f} entries/s, "
                f"Python CPU {cpu:,.1f} s (DB server excluded)")
        if bad:
            note += f", {len(bad)} BROKEN (first: {bad[0]})"
        if n_expected is not None and checked != n_expected:
            note += f", EXPECTED {n_expected:,}"
        label = f"ledger verify ({workers} processes)" if parallel and workers > 1 else "ledger verify (all chains)"
        timings.append(Timing(label, t, VERIFY_TARGET_S, note))
    return timings, facts


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_http(app, year: int, repeat: int, facts: dict, keep_token: bool) -> Timing | None:
    """Outside any app context, so each request is its own (no cached user in ``g``)."""
    if not any(r.rule == "/api/v1/stats/utilisation" for r in app.url_map.iter_rules()):
        print("  (skipped HTTP: no /api/v1/stats/utilisation route in this tree)")
        return None
    from wasteex.accounts.service import issue_token

    with app.app_context():
        regulator = db.session.scalar(select(User).where(User.platform_role == "regulator"))
        _token, secret = issue_token(regulator, "benchmark")
        db.session.commit()
        db.session.remove()
    if keep_token:  # for later benchmarks against the kept database
        TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
        TOKEN_FILE.write_text(secret + "\n")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    path = f"/api/v1/stats/utilisation?year={year}"

    def get():
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} → {response.status_code}: {response.get_data(as_text=True)[:300]}")
        return response.get_json()

    body, t = _timed(get, repeat)
    expected = facts.get("city_rate")
    ok = expected is not None and body["rate"] == float(expected)
    return Timing("GET /api/v1/stats/utilisation (regulator)", t, RATE_TARGET_S,
                  f"rate {body['rate']}" + ("" if ok else f" ≠ {expected}"))


# ----------------------------------------------------------------------------- databases


def prepare_sqlite(args, tmp: Path) -> str:
    path = KEEP_SQLITE if args.keep or args.reuse else tmp / "bench.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not args.reuse:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def prepare_postgresql(args) -> str:
    url = make_url(args.pg_url)
    admin = create_engine(url.set(database="test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    admin.dispose()
    if exists and not args.reuse:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    return url.render_as_string(hide_password=False)


def drop_postgresql(args) -> None:
    url = make_url(args.pg_url)
    admin = create_engine(url.set(database="test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    admin.dispose()


def database_size(app) -> str:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            path = Path(db.engine.url.database)
            size = sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists())
            detail = f" (SQLite {sqlite3.sqlite_version})"
        else:
            size = db.session.scalar(text("SELECT pg_database_size(current_database())"))
            entries = db.session.scalar(text("SELECT pg_total_relation_size('ledger_entry')"))
            version = db.session.scalar(text("SHOW server_version"))
            detail = f" (ledger_entry with indexes {entries / 2**20:,.0f} MiB; PostgreSQL {version})"
        db.session.remove()
    return f"{size / 2**20:,.0f} MiB{detail}"


def count_entries(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        except Exception:  # noqa: BLE001 - no schema yet
            db.session.rollback()
            return 0
        finally:
            db.session.remove()


def run_engine(engine_name: str, args, tmp: Path) -> dict:
    global ROUTE_LANDFILL_II
    print(f"\n=== {engine_name}: {args.entries:,} entries over {args.enterprises} enterprises ===", flush=True)
    url = prepare_sqlite(args, tmp) if engine_name == "sqlite" else prepare_postgresql(args)
    app = create_app({"DATABASE_URL": url})
    logging.getLogger("alembic").setLevel(logging.WARNING)
    report = None
    existing = count_entries(app) if args.reuse else 0
    if existing:
        print(f"  reusing {existing:,} entries already in {make_url(url).render_as_string(hide_password=True)}")
    else:
        t0 = time.perf_counter()
        with app.app_context():
            upgrade()
            ROUTE_LANDFILL_II = db.session.scalar(select(Route.id).where(Route.key == "landfill_class_ii"))
            db.session.remove()
            db.engine.dispose()
        migrate_s = time.perf_counter() - t0
        report = load(app, args, random.Random(args.seed))
        print(f"  migrations {migrate_s:.1f} s; load {report.total_s:.1f} s", flush=True)
    load_before = os.getloadavg()[0]
    size = database_size(app)
    with app.app_context():
        year = db.session.scalar(select(func.max(MonthlyTotal.year)))
        db.session.remove()
    timings, facts = measure(app, args, year, report.entries if report else existing)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if not args.keep and not args.reuse and engine_name == "postgresql":
        drop_postgresql(args)
    loadavg = (load_before, os.getloadavg()[0])
    return dict(engine=engine_name, url=url, report=report, size=size, timings=timings, facts=facts,
                loadavg=loadavg)


def print_result(result: dict) -> None:
    report: LoadReport | None = result["report"]
    print(f"\n--- {result['engine']} ---")
    if report:
        print(f"load: {report.entries:,} entries, {report.enterprises} enterprises, {report.streams} streams, "
              f"{report.monthly_rows:,} monthly-total rows")
        print(f"      {report.total_s:.1f} s total = generate+hash {report.generate_s:.1f} s, "
              f"insert {report.insert_s:.1f} s, heads/totals/finish {report.finish_s:.1f} s "
              f"({report.entries / report.total_s:,.0f} entries/s)")
    print(f"database size: {result['size']}")
    print(f"machine: {os.cpu_count()} CPUs, 1-min load average {result['loadavg'][0]:.1f} before the "
          f"measurements and {result['loadavg'][1]:.1f} after (other work on the machine slows the figures)")
    facts = result["facts"]
    totals = facts["city_totals"]
    print(f"city {facts['year']}: generated {totals.generated / 1000:,.0f} t, utilised "
          f"{totals.utilised / 1000:,.0f} t, balance difference {facts['balance_kg']} kg")
    width = 44
    print(f"{'measurement':<{width}} {'first':>9} {'min':>9} {'median':>9} {'target':>8}  ok   result")
    for t in result["timings"]:
        unit = 1000.0 if t.best < 10 else 1.0
        suffix = "ms" if unit == 1000.0 else "s"

        def f(x):
            return f"{x * unit:,.1f}{suffix}" if unit == 1000.0 else f"{x:,.1f}{suffix}"

        target = "" if t.target is None else (f"{t.target * 1000:.0f}ms" if t.target < 10 else f"{t.target:.0f}s")
        ok = "" if t.target is None else ("yes" if t.median <= t.target else "NO")
        print(f"{t.label:<{width}} {f(t.first):>9} {f(t.best):>9} {f(t.median):>9} {target:>8}  {ok:<4} {t.note}")
    if facts.get("verify_profile"):
        print("\nverify profile (cumulative):\n" + facts["verify_profile"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=300)
    parser.add_argument("--keep", action="store_true",
                        help=f"keep the databases ({KEEP_SQLITE.relative_to(ROOT)}; the --pg-url database)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure a database kept by --keep without reloading it (loads it if empty)")
    parser.add_argument("--pg-url", default=os.environ.get("WASTEEX_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--repeat", type=int, default=7, help="runs of each query (min and median reported)")
    parser.add_argument("--verify-repeat", type=int, default=1)
    parser.add_argument("--verify-workers", type=int, default=0,
                        help="processes for chain_store.verify_all when the tree has it (default: CPU count)")
    parser.add_argument("--profile-verify", action="store_true", help="cProfile the verify runs")
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args(argv)
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    results = []
    with tempfile.TemporaryDirectory(prefix="wasteex-bench-") as tmp:
        for name in engines:
            results.append(run_engine(name, args, Path(tmp)))
    for result in results:
        print_result(result)
    if args.keep:
        print(f"\nkept: SQLite {KEEP_SQLITE}; PostgreSQL {make_url(args.pg_url).render_as_string()}; "
              f"regulator token in {TOKEN_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
