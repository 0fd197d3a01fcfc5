"""Two years of believable ledger history for the demo producers.

Each month balances by construction (generated = utilised + stored + disposed),
and the city lands near the 50–57 % its neighbours report (DOMAIN.md §8), so
the dashboards show a real gap to the 80 % target.
"""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from wasteex.catalog.models import WasteCategory
from wasteex.enterprises.models import Enterprise, Facility, FacilityKind
from wasteex.extensions import db
from wasteex.ledger.models import EntrySource
from wasteex.ledger.service import EntryInput, record_entry
from wasteex.streams.models import GbClass, PhysicalForm, WasteStream

# industry keyword → streams: (sw code, name, t per year, form, route of own use, route when sent out)
STREAMS_BY_INDUSTRY = (
    ("发电", (("SW02", "粉煤灰", 900_000, PhysicalForm.POWDER, "autoclaved_brick", "cement_admixture"),
              ("SW06", "脱硫石膏", 260_000, PhysicalForm.POWDER, None, "gypsum_board"),
              ("SW03", "炉渣", 120_000, PhysicalForm.SOLID, None, "road_base"))),
    ("煤炭", (("SW04", "洗选煤矸石", 1_500_000, PhysicalForm.SOLID, "mine_backfill", "sintered_brick"),)),
    ("烯烃", (("SW59", "气化粗渣", 600_000, PhysicalForm.SOLID, None, "ceramsite"),
              ("SW59", "气化细渣", 300_000, PhysicalForm.SLUDGE, None, "carbon_recovery"))),
    ("甲醇", (("SW59", "气化渣", 450_000, PhysicalForm.SOLID, None, "ceramsite"),)),
    ("化学品", (("SW59", "气化渣", 380_000, PhysicalForm.SOLID, None, "road_base"),)),
    ("电石", (("SW16", "电石渣", 520_000, PhysicalForm.SLUDGE, None, "cement_raw_meal"),)),
    ("聚氯乙烯", (("SW16", "电石渣", 700_000, PhysicalForm.SLUDGE, None, "cement_raw_meal"),)),
    ("铁合金", (("SW01", "硅锰/硅铁冶炼渣", 400_000, PhysicalForm.SOLID, None, "slag_powder"),)),
    ("天然气", (("SW12", "钻井岩屑", 60_000, PhysicalForm.SEMI_SOLID, None, "other_utilisation"),)),
)
FACILITY_CODES = {FacilityKind.GENERATION: "CS-01", FacilityKind.STORAGE: "ZC-01",
                  FacilityKind.SELF_UTILISATION: "LY-01", FacilityKind.SELF_DISPOSAL: "CZ-01"}


def _streams_for(enterprise: Enterprise):
    for keyword, streams in STREAMS_BY_INDUSTRY:
        if keyword in enterprise.industry:
            return streams
    return ()


def _ensure_facilities(site) -> None:
    present = {f.code for f in site.facilities}
    names = {FacilityKind.GENERATION: "产生设施", FacilityKind.STORAGE: "贮存场",
             FacilityKind.SELF_UTILISATION: "厂内综合利用线", FacilityKind.SELF_DISPOSAL: "自建Ⅱ类填埋场"}
    for kind, code in FACILITY_CODES.items():
        if code not in present:
            site.facilities.append(Facility(kind=kind, code=code, name=names[kind], responsible_person="赵工"))


def _months(today: date, count: int = 24) -> list[date]:
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(date(year, month, 28))
    return sorted(out)


def _receiver(rng: random.Random, utilisers: list[Enterprise]) -> Enterprise:
    return rng.choice(utilisers)


def seed_ledger(admins: dict[int, object], utilisers: list[Enterprise], today: date) -> int:
    """Streams and 24 months of entries for each producer; returns the number of entries."""
    rng = random.Random(8080)
    categories = {c.sw_code: c for c in db.session.scalars(select(WasteCategory))}
    producers = db.session.scalars(select(Enterprise).where(Enterprise.is_producer.is_(True),
                                                            Enterprise.id.in_(admins))  # the demo's own only
                                   .order_by(Enterprise.id)).all()
    count = 0
    for enterprise in producers:
        site = enterprise.sites[0]
        _ensure_facilities(site)
        for sw, name, annual_t, form, own_route, out_route in _streams_for(enterprise):
            stream = WasteStream(enterprise=enterprise, site=site, name=name, category=categories[sw],
                                 gb_class=GbClass.I if sw != "SW59" else GbClass.II, physical_form=form,
                                 process_step="主生产工艺", expected_annual_kg=annual_t * 1000)
            db.session.add(stream)
            db.session.flush()
            count += _history(rng, admins[enterprise.id], enterprise, stream, annual_t, own_route, out_route,
                              utilisers, _months(today))
    return count


def _split(rng: random.Random, month_index: int, own_route: str | None) -> tuple[float, float, float]:
    """Shares (self-utilised, sent out for utilisation, stored); the rest is landfilled."""
    improving = month_index / 24 * 0.06  # the second year is a little better
    own = rng.uniform(0.08, 0.16) if own_route else 0.0
    out = rng.uniform(0.34, 0.46) + improving
    stored = rng.uniform(0.15, 0.25)
    return own, out, stored


def _history(rng, actor, enterprise, stream, annual_t, own_route, out_route, utilisers, months) -> int:
    written = 0
    for index, day in enumerate(months):
        generated = int(annual_t * 1000 / 12 * rng.uniform(0.85, 1.15))
        own, out, stored = _split(rng, index, own_route)
        parts = {"self": int(generated * own), "out": int(generated * out), "stored": int(generated * stored)}
        parts["landfill"] = generated - sum(parts.values())
        receiver = _receiver(rng, utilisers)
        lines = [EntryInput("generation", day, _t(generated), "李班长", stream.id, facility_code="CS-01")]
        if parts["self"]:
            lines.append(EntryInput("self_utilisation", day, _t(parts["self"]), "李班长", stream.id,
                                    facility_code="LY-01", route_key=own_route))
        lines.append(EntryInput("entrusted_utilisation", day, _t(parts["out"]), "王调度", stream.id,
                                route_key=out_route, counterparty_name=receiver.name,
                                counterparty_credit_code=receiver.credit_code, carrier_name="鄂尔多斯市通达物流运输有限公司",
                                plate_number=f"蒙K{rng.randint(10000, 99999)}",
                                contract_number=f"HT-{day.year}-{enterprise.id:03d}-{receiver.id:03d}"))
        lines.append(EntryInput("storage_in", day, _t(parts["stored"]), "李班长", stream.id, facility_code="ZC-01"))
        if index >= 12:  # in the second year the yard is drawn down: prior years' stock utilised
            lines.extend(_drawdown(rng, day, stream, int(generated * rng.uniform(0.03, 0.07)), out_route,
                                   receiver, enterprise))
        lines.append(EntryInput("self_disposal", day, _t(parts["landfill"]), "李班长", stream.id,
                                facility_code="CZ-01", route_key="landfill_class_ii"))
        for line in lines:
            record_entry(actor, enterprise.id, line, EntrySource.IMPORT)
            written += 1
    return written


def _drawdown(rng, day, stream, kg: int, route: str, receiver, enterprise) -> list[EntryInput]:
    """Take prior years' stock out of the yard and send it for utilisation (其中：综合利用往年贮存量)."""
    return [
        EntryInput("storage_out", day, _t(kg), "李班长", stream.id, facility_code="ZC-01", from_prior_storage=True),
        EntryInput("entrusted_utilisation", day, _t(kg), "王调度", stream.id, route_key=route,
                   from_prior_storage=True, counterparty_name=receiver.name,
                   counterparty_credit_code=receiver.credit_code, carrier_name="鄂尔多斯市通达物流运输有限公司",
                   plate_number=f"蒙K{rng.randint(10000, 99999)}D",
                   contract_number=f"HT-{day.year}-{enterprise.id:03d}-{receiver.id:03d}"),
    ]


def _t(kg: int) -> str:
    return f"{kg // 1000}.{kg % 1000:03d}"
