"""How a Decimal is written for people: no trailing zeros and never in exponent form."""
from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal | str | None) -> str:
    """"40", not "4E+1" or "40.0000"; empty for no value. Strings are decimals stored as text (JSON)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")
