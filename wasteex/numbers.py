"""How a Decimal is written for people: no trailing zeros and never in exponent form."""
from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal | None) -> str:
    """"40", not "4E+1" or "40.0000"; empty for no value."""
    return "" if value is None else format(value.normalize(), "f")
