"""The trading terms offers and demands share: quantity over time, price, distance, text.

Each parser takes what a form or the API sent (text, Decimal, int, date) and
either returns the stored value or raises ``ValidationFailed`` naming the
field, so both edges refuse the same inputs with the same words.
"""
from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from flask_babel import gettext as _

from wasteex.errors import ValidationFailed
from wasteex.ledger.rates import MAX_KG, tonnes_to_kg
from wasteex.market.models import MAX_KM, Supply
from wasteex.numbers import plain

MAX_MONTHS = 120  # a recurring window of ten years at most
MAX_PRICE = Decimal("100000")  # yuan per tonne, either way
CENT = Decimal("0.01")


def fail(field: str, message: str):
    raise ValidationFailed.on(field, message)


def text(data: dict, name: str, limit: int, required: bool = False) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        fail(name, _("This field is required."))
    if len(value) > limit:
        fail(name, _("At most %(n)s characters.", n=limit))
    return value


def positive_kg(raw, field: str) -> int:
    """Tonnes (at most 3 decimals) as integer kilograms, above zero."""
    try:
        kg = tonnes_to_kg(raw)
    except (ValueError, TypeError):
        fail(field, _("Enter tonnes above zero with at most 3 decimals."))
    if kg <= 0:
        fail(field, _("Enter tonnes above zero with at most 3 decimals."))
    return kg


def month(raw, field: str, last_day: bool = False) -> date:
    """A month from a date or "YYYY-MM[-DD]" text: its first day, or its last with ``last_day``."""
    if isinstance(raw, date):
        day = raw
    else:
        value = str(raw or "").strip()
        try:
            day = date.fromisoformat(value if len(value) > 7 else f"{value}-01")
        except ValueError:
            fail(field, _("Enter a month as YYYY-MM."))
    end = calendar.monthrange(day.year, day.month)[1] if last_day else 1
    return day.replace(day=end)


def quantities(data: dict) -> dict:
    """Supply kind, per-month amount, window and the total they make.

    One-off: ``tonnes`` in total. Recurring: ``tonnes_per_month`` from the
    month of ``window_start`` to the month of ``window_end``, both included;
    the total is the monthly amount times the months.
    """
    try:
        supply = Supply(data.get("supply"))
    except ValueError:
        fail("supply", _("Choose one-off or recurring."))
    if supply is Supply.ONE_OFF:
        return {"supply": supply, "kg_per_month": None, "window_start": None, "window_end": None,
                "total_kg": positive_kg(data.get("tonnes"), "tonnes")}
    per_month = positive_kg(data.get("tonnes_per_month"), "tonnes_per_month")
    start = month(data.get("window_start"), "window_start")
    end = month(data.get("window_end"), "window_end", last_day=True)
    if end < start:
        fail("window_end", _("The window cannot end before it starts."))
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months > MAX_MONTHS:
        fail("window_end", _("A window lasts at most %(n)s months.", n=MAX_MONTHS))
    if per_month * months > MAX_KG:
        fail("tonnes_per_month", _("The total is beyond what the exchange accepts."))
    return {"supply": supply, "kg_per_month": per_month, "window_start": start, "window_end": end,
            "total_kg": per_month * months}


def price(raw) -> Decimal:
    """Yuan per tonne with at most 2 decimals; negative is a gate fee (处置费)."""
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        fail("price_per_t", _("Enter a price in yuan per tonne (negative for a gate fee)."))
    if isinstance(raw, (bool, float)) or not value.is_finite():
        fail("price_per_t", _("Enter a price in yuan per tonne (negative for a gate fee)."))
    if abs(value) > MAX_PRICE:
        fail("price_per_t", _("A price lies between -%(max)s and %(max)s yuan per tonne.", max=MAX_PRICE))
    if value != value.quantize(CENT, rounding=ROUND_DOWN):
        fail("price_per_t", _("Enter a price in yuan per tonne with at most 2 decimals."))
    return value.quantize(CENT)


def max_km(raw, required: bool) -> int | None:
    """Kilometres above 0 and at most 1000; optional on offers, required on demands."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            fail("max_km", _("Enter the maximum transport distance in km."))
        return None
    try:
        number = raw if isinstance(raw, (int, Decimal)) and not isinstance(raw, bool) else Decimal(str(raw).strip())
        km = int(number)
    except (InvalidOperation, ValueError, TypeError, OverflowError):
        km, number = None, None
    if km is None or km != number or not 0 < km <= MAX_KM:
        fail("max_km", _("Enter whole kilometres above 0 and at most %(max)s.", max=MAX_KM))
    return km


def decimal_in(raw, field: str, low: Decimal, high: Decimal, unit: str) -> Decimal:
    """A measured or limiting value inside the attribute's range."""
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        fail(field, _("Enter a number."))
    if isinstance(raw, bool) or not value.is_finite():
        fail(field, _("Enter a number."))
    if not low <= value <= high:
        fail(field, _("The value must lie between %(lo)s and %(hi)s %(unit)s.", lo=plain(low), hi=plain(high), unit=unit))
    return value.quantize(Decimal("0.0001"))


def blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())
