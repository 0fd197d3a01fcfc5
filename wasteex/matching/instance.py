"""The match-file JSON format: strict parsing into a :class:`Problem`, and results out.

A bad file must fail loudly and precisely — naming the item (index and id)
and the field — because a silently ignored typo (``"max_kms"``) would change
who gets matched. Numbers are parsed as :class:`~decimal.Decimal` so that
"at most three decimals of a tonne" is checked exactly and tonnes become
integer kilograms without float rounding.
"""
from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from wasteex.matching.problem import Demand, Limit, Offer, Problem, Result

MAX_TONNES = Decimal(10) ** 9  # keeps kilograms × metres comfortably inside int64 per arc
OFFER_FIELDS = {"id", "sw_code", "tonnes", "lat", "lon", "class", "quality", "max_km", "owner"}
DEMAND_FIELDS = {"id", "accepts", "accepts_class", "tonnes", "lat", "lon", "max_km", "limits", "owner"}
TOP_FIELDS = {"offers", "demands"}


class InstanceError(ValueError):
    """An invalid instance; ``where`` names the item, ``field`` the offending field."""

    def __init__(self, where: str, field: str | None, message: str):
        self.where, self.field, self.message = where, field, message
        super().__init__(f"{where}: field '{field}': {message}" if field else f"{where}: {message}")


def loads(text: str | bytes) -> Problem:
    """Parse instance JSON text into a Problem, or raise :class:`InstanceError`."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except InstanceError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InstanceError("instance", None, f"not valid JSON ({exc})") from None
    return problem_from_json(data)


def _reject_constant(name: str):
    raise InstanceError("instance", None, f"{name} is not a number JSON allows")


def problem_from_json(data: Any) -> Problem:
    """Validate already-decoded JSON (numbers may be int, float or Decimal)."""
    if not isinstance(data, dict):
        raise InstanceError("instance", None, "must be a JSON object with 'offers' and 'demands'")
    unknown = sorted(set(data) - TOP_FIELDS)
    if unknown:
        raise InstanceError("instance", unknown[0], "unknown top-level key")
    lists = {}
    for key in ("offers", "demands"):
        if key not in data:
            raise InstanceError("instance", key, "missing")
        if not isinstance(data[key], list):
            raise InstanceError("instance", key, "must be a list")
        lists[key] = data[key]
    offers = _unique([_offer(item, n) for n, item in enumerate(lists["offers"])], "offers")
    demands = _unique([_demand(item, n) for n, item in enumerate(lists["demands"])], "demands")
    return Problem(tuple(offers), tuple(demands))


def _unique(items: list, kind: str) -> list:
    seen: dict[str, int] = {}
    for n, item in enumerate(items):
        if item.id in seen:
            raise InstanceError(f"{kind}[{n}] (id {item.id!r})", "id", f"duplicate of {kind}[{seen[item.id]}]")
        seen[item.id] = n
    return items


class _Item:
    """Field access for one offer or demand, raising errors that name it."""

    def __init__(self, raw: Any, kind: str, index: int, allowed: set[str]):
        self.where = f"{kind}[{index}]"
        if not isinstance(raw, dict):
            raise InstanceError(self.where, None, "must be a JSON object")
        self.raw = raw
        ident = raw.get("id")
        if isinstance(ident, str) and ident:
            self.where += f" (id {ident!r})"
        for key in sorted(set(raw) - allowed):
            raise InstanceError(self.where, key, "unknown field")

    def fail(self, field: str, message: str):
        raise InstanceError(self.where, field, message)

    def value(self, field: str, required: bool) -> Any:
        """The raw value; absent and null are the same, and fatal when required."""
        value = self.raw.get(field)
        if value is None and required:
            self.fail(field, "missing")
        return value

    def as_text(self, field: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(field, f"must be a non-empty string, got {_show(value)}")
        return value

    def as_number(self, field: str, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            self.fail(field, f"must be a number, got {_show(value)}")
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            self.fail(field, "must be finite")
        return number

    def text(self, field: str, required: bool = True) -> str | None:
        value = self.value(field, required)
        return None if value is None else self.as_text(field, value)

    def number(self, field: str, required: bool = True) -> Decimal | None:
        value = self.value(field, required)
        return None if value is None else self.as_number(field, value)

    def kilograms(self) -> int:
        tonnes = self.number("tonnes")
        if tonnes <= 0:
            self.fail("tonnes", f"must be > 0, got {tonnes}")
        if tonnes > MAX_TONNES:
            self.fail("tonnes", f"must be at most {MAX_TONNES:,} t, got {tonnes}")
        kg = tonnes * 1000
        if kg != kg.to_integral_value():
            self.fail("tonnes", f"at most 3 decimals (whole kilograms), got {tonnes}")
        return int(kg)

    def position(self) -> tuple[float, float]:
        lat, lon = self.number("lat"), self.number("lon")
        if not -90 <= lat <= 90:
            self.fail("lat", f"must be within [-90, 90], got {lat}")
        if not -180 <= lon <= 180:
            self.fail("lon", f"must be within [-180, 180], got {lon}")
        return float(lat), float(lon)

    def max_km(self) -> float | None:
        value = self.number("max_km", required=False)
        if value is not None and value <= 0:
            self.fail("max_km", f"must be > 0 (or null for no limit), got {value}")
        return None if value is None else float(value)

    def strings(self, field: str, required: bool) -> frozenset[str] | None:
        value = self.value(field, required)
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail(field, f"must be a list of strings, got {_show(value)}")
        if not value:
            self.fail(field, "must not be empty: it would accept nothing")
        return frozenset(self.as_text(f"{field}[{n}]", v) for n, v in enumerate(value))

    def mapping(self, field: str) -> dict:
        value = self.value(field, required=False)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(field, f"must be an object, got {_show(value)}")
        return value


def _offer(raw: Any, index: int) -> Offer:
    item = _Item(raw, "offers", index, OFFER_FIELDS)
    ident, code, kg = item.text("id"), item.text("sw_code"), item.kilograms()
    lat, lon = item.position()
    quality = {  # a null value is the same as an absent one: unknown
        name: float(item.as_number(f"quality.{name}", value))
        for name, value in item.mapping("quality").items()
        if value is not None
    }
    return Offer(
        id=ident,
        sw_code=code,
        kg=kg,
        lat=lat,
        lon=lon,
        waste_class=item.text("class", required=False),
        quality=quality,
        max_km=item.max_km(),
        owner=item.text("owner", required=False),
    )


def _demand(raw: Any, index: int) -> Demand:
    item = _Item(raw, "demands", index, DEMAND_FIELDS)
    ident, accepts, kg = item.text("id"), item.strings("accepts", required=True), item.kilograms()
    lat, lon = item.position()
    return Demand(
        id=ident,
        accepts=accepts,
        kg=kg,
        lat=lat,
        lon=lon,
        accepts_class=item.strings("accepts_class", required=False),
        limits={name: _limit(item, name, spec) for name, spec in item.mapping("limits").items()},
        max_km=item.max_km(),
        owner=item.text("owner", required=False),
    )


def _limit(item: _Item, name: str, spec: Any) -> Limit:
    field = f"limits.{name}"
    if not isinstance(spec, dict):
        item.fail(field, f"must be an object like {{\"min\": 1, \"max\": 5}}, got {_show(spec)}")
    for key in sorted(set(spec) - {"min", "max"}):
        item.fail(f"{field}.{key}", "unknown bound (use min and/or max)")
    low, high = (
        None if spec.get(b) is None else item.as_number(f"{field}.{b}", spec[b]) for b in ("min", "max")
    )
    if low is None and high is None:
        item.fail(field, "needs a min or a max")
    if low is not None and high is not None and low > high:
        item.fail(field, f"min {low} is greater than max {high}")
    return Limit(None if low is None else float(low), None if high is None else float(high))


def _show(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def result_to_json(result: Result, *, stats: bool = False) -> dict:
    """The match-file output document; tonnes and km exact to the kg and the metre."""
    doc = {
        "allocations": [
            {"offer": a.offer_id, "demand": a.demand_id, "tonnes": a.kg / 1000, "km": a.metres / 1000}
            for a in result.allocations
        ],
        "matched_tonnes": result.matched_kg / 1000,
        "tonne_km": float(Decimal(result.cost_kg_m) / 1_000_000),
        "unmatched_offer_tonnes": result.unmatched_offer_kg / 1000,
        "unmet_demand_tonnes": result.unmet_demand_kg / 1000,
        "optimal": result.optimal,
        "seconds": round(result.seconds, 3),
    }
    if stats:
        doc["stats"] = {
            "candidate_pairs": result.candidate_pairs,
            "rounds": result.rounds,
            "strategy": result.strategy,
        }
    assert all(math.isfinite(v) for v in (doc["matched_tonnes"], doc["tonne_km"]))
    return doc
