"""The demo exchange: open offers from producers' streams and open demands from utilisers.

Made through the market service, as a user would, so the demo obeys every
rule of the real one; the demo producer's fly ash and the demo utiliser's
brick works demand are among them, so a matcher run proposes between the two
README logins. Quality values are stated on the streams (their lab results).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from wasteex.accounts.models import MemberRole, User
from wasteex.catalog.models import QualityAttribute
from wasteex.demo.data import ENTERPRISES
from wasteex.enterprises.models import Enterprise
from wasteex.extensions import db
from wasteex.market import service
from wasteex.streams.models import QualityValue, WasteStream

# Lab values per stream name (the demo streams of demo/ledger.py).
QUALITY = {
    "粉煤灰": {"al2o3_pct": "47.5", "loi_pct": "3.8", "moisture_pct": "0.6", "fineness_45um_pct": "18"},
    "洗选煤矸石": {"calorific_mj_kg": "6.2", "al2o3_pct": "31", "sulphur_pct": "0.9"},
    "气化粗渣": {"residual_carbon_pct": "12", "moisture_pct": "22"},
    "气化细渣": {"residual_carbon_pct": "34", "moisture_pct": "45"},
    "气化渣": {"residual_carbon_pct": "15", "moisture_pct": "25"},
    "电石渣": {"caoh2_pct": "88", "moisture_pct": "38", "chloride_ppm": "900"},
    "脱硫石膏": {"caso4_2h2o_pct": "92", "moisture_pct": "11", "chloride_ppm": "350"},
    "硅锰/硅铁冶炼渣": {"sio2_pct": "41", "moisture_pct": "3"},
}

# (producer key, stream name, tonnes, yuan/t; negative: the producer pays a gate fee)
OFFERS = (
    ("jungar_power", "粉煤灰", "60000", "-12"),
    ("jungar_power", "脱硫石膏", "20000", "5"),
    ("jungar_power_2", "粉煤灰", "45000", "-8"),
    ("jungar_coal_hdg", "洗选煤矸石", "150000", "-3"),
    ("jungar_coal_hec", "洗选煤矸石", "90000", "-2"),
    ("uxin_olefin", "气化粗渣", "50000", "-25"),
    ("uxin_olefin", "气化细渣", "20000", "-30"),
    ("uxin_methanol", "气化渣", "30000", "-20"),
    ("otog_pvc", "电石渣", "60000", "-15"),
    ("otog_ferro", "硅锰/硅铁冶炼渣", "25000", "10"),
    ("dalad_power", "粉煤灰", "40000", "-10"),
)

# (utiliser key, title, codes, route, limits, tonnes, max km, yuan/t)
DEMANDS = (
    ("jungar_brick", "收购高铝粉煤灰、煤矸石制烧结砖", ["SW02", "SW04"], "sintered_brick",
     {"al2o3_pct": {"min": "40"}}, "80000", 80, "0"),
    ("jungar_alumina", "高铝粉煤灰提取氧化铝", ["SW02"], "alumina_extraction",
     {"al2o3_pct": {"min": "45"}}, "50000", 60, "8"),
    ("jungar_gypsum", "脱硫石膏制纸面石膏板", ["SW06"], "gypsum_board",
     {"caso4_2h2o_pct": {"min": "90"}, "moisture_pct": {"max": "12"}}, "18000", 100, "10"),
    ("jungar_backfill", "煤矸石井下充填", ["SW04"], "mine_backfill", {}, "120000", 50, "-5"),
    ("uxin_ceramsite", "气化渣制陶粒", ["SW59"], "ceramsite", {"residual_carbon_pct": {"max": "20"}},
     "60000", 60, "-10"),
    ("uxin_carbon", "气化细渣提碳", ["SW59"], "carbon_recovery", {"residual_carbon_pct": {"min": "25"}},
     "20000", 60, "0"),
    ("otog_cement", "电石渣替代石灰石", ["SW16"], "cement_raw_meal", {"caoh2_pct": {"min": "80"}},
     "50000", 60, "-5"),
    ("otog_slag_powder", "冶金渣制超细粉", ["SW01"], "slag_powder", {}, "20000", 60, "15"),
    ("dongsheng_cement", "粉煤灰水泥掺合料", ["SW02"], "cement_admixture", {"loi_pct": {"max": "5"}},
     "40000", 200, "2"),
)


def seed_market(today: date) -> None:
    """Open offers and demands, one-off, published; a failure here is a bug in the demo data."""
    by_key = {e.name: e for e in db.session.scalars(select(Enterprise))}
    enterprises = {row.key: by_key[row.name] for row in ENTERPRISES}
    attributes = {a.key: a for a in db.session.scalars(select(QualityAttribute))}
    measured = today - timedelta(days=30)
    for stream in db.session.scalars(select(WasteStream)):
        for key, value in QUALITY.get(stream.name, {}).items():
            db.session.add(QualityValue(stream=stream, attribute=attributes[key], value=Decimal(value),
                                        measured_on=measured))
    db.session.flush()
    for key, stream_name, tonnes, price in OFFERS:
        enterprise = enterprises[key]
        actor = _admin(enterprise)
        stream = next(s for s in db.session.scalars(select(WasteStream).where(
            WasteStream.enterprise_id == enterprise.id, WasteStream.name == stream_name)))
        offer = service.create_offer(actor, {"stream_id": stream.id, "title": f"{stream.name}（{enterprise.sites[0].name}）",
                                             "supply": "one_off", "tonnes": tonnes, "price_per_t": price,
                                             "transport_by": "either", "max_km": None})
        service.change_status(actor, offer, "publish")
    for key, title, codes, route, limits, tonnes, max_km, price in DEMANDS:
        enterprise = enterprises[key]
        actor = _admin(enterprise)
        demand = service.create_demand(actor, {
            "site_id": enterprise.sites[0].id, "title": title, "accepts": codes, "accepts_class": ["I", "II"],
            "route_key": route, "limits": limits, "supply": "one_off", "tonnes": tonnes, "max_km": max_km,
            "price_per_t": price})
        service.change_status(actor, demand, "publish")
    db.session.flush()


def _admin(enterprise: Enterprise) -> User:
    """The enterprise's demo admin, or the clerk account the ledger seeding made for it."""
    memberships = sorted(enterprise.memberships, key=lambda m: m.role is not MemberRole.ADMIN)
    return memberships[0].user
