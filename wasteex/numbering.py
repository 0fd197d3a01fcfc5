"""Readable document numbers: ``HT-20261128-7F3K2Q`` (a contract), ``WX-20261128-…`` (a slip).

A kind prefix, the day, and 30 random bits in Crockford base 32 (no I, L, O,
U), so a number can be read over the phone from a weighbridge. The column's
unique constraint is the arbiter of the (one in a billion per day) collision.
"""
from __future__ import annotations

import secrets
from datetime import date

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def readable_number(prefix: str, today: date | None = None) -> str:
    day = (today or date.today()).strftime("%Y%m%d")
    return f"{prefix}-{day}-{''.join(secrets.choice(ALPHABET) for _ in range(6))}"
