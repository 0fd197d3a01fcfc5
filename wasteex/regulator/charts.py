"""What the cockpit's charts and map draw, as plain JSON-able data.

Pages put these in ``data-`` attributes and ``static/js/cockpit.js`` hands them to the vendored
ECharts (no inline script: CSP). Tonnes are JSON numbers exact to the kilogram (3 decimals),
rates percentages with 2 decimals or null when nothing was generated.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Callable

from wasteex.ledger.stats import TARGET_RATE
from wasteex.maps.data import banners
from wasteex.regulator.flows import CockpitMap, MapFlow, MapPoint
from wasteex.regulator.queries import MonthRow, Period, Row
from wasteex.templating import division_name

TARGET_PERCENT = float(Decimal(TARGET_RATE) * 100)


def tonnes(kg: int) -> float:
    return float(Decimal(kg) / 1000)


def percent(rate: Decimal | None) -> float | None:
    return None if rate is None else float((rate * 100).quantize(Decimal("0.01")))


def trend(period: Period, months: list[MonthRow]) -> dict:
    """Monthly bars (generated, utilised), the stock line and the rate line against the target."""
    return {
        "months": [f"{period.year}-{m.month:02d}" for m in months],
        "generated": [tonnes(m.totals.generated) for m in months],
        "utilised": [tonnes(m.totals.utilised) for m in months],
        "stock": [tonnes(m.stock_kg) for m in months],
        "rate": [percent(m.rate) for m in months],
        "target": TARGET_PERCENT,
    }


def rates(rows: list[Row], label: Callable[[Row], str], url: Callable[[Row], str]) -> dict:
    """One bar per group (its rate), each opening the group's page, with the 80 % line."""
    return {
        "categories": [label(r) for r in rows],
        "rates": [percent(r.rate) for r in rows],
        "urls": [url(r) for r in rows],
        "target": TARGET_PERCENT,
    }


def _point(point: MapPoint, url: Callable[[int], str]) -> dict:
    e = point.place.enterprise
    return {"kind": point.kind, "enterprise_id": e.id, "name": e.name, "credit_code": e.credit_code,
            "banner": division_name(e.division_code), "lon": point.place.lon, "lat": point.place.lat,
            "tonnes": tonnes(point.kg), "rate": percent(point.rate), "url": url(e.id)}


def _flow(item: MapFlow) -> dict:
    f = item.flow
    return {"from_id": item.sender.enterprise.id, "to_id": item.receiver.enterprise.id,
            "from": [item.sender.lon, item.sender.lat], "to": [item.receiver.lon, item.receiver.lat],
            "sender": item.sender.enterprise.name, "receiver": item.receiver.enterprise.name,
            "utilised_t": tonnes(f.utilised_kg), "disposed_t": tonnes(f.disposed_kg), "tonnes": tonnes(f.total_kg)}


def map_payload(period: Period, found: CockpitMap, enterprise_url: Callable[[int], str]) -> dict:
    names = banners()
    return {
        "year": period.year,
        "through_month": period.through_month,
        "target": TARGET_PERCENT,
        "banners": [{"code": code, "name": names[code], "rate": percent(found.banner_rates.get(code))}
                    for code in names],
        "points": [_point(p, enterprise_url) for p in found.points],
        "flows": [_flow(f) for f in found.flows],
        "flows_total": found.flows_total,
    }
