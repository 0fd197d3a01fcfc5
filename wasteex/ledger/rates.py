"""The official utilisation rate and the mass-balance identity — pure arithmetic.

Why here and not in SQL or templates: the 80 % target (binding for 2025) and
the balance anomalies a regulator sees must use one definition everywhere —
dashboards, exports, the 以渣定产 pilot. National statistics define (DOMAIN.md §2)::

    综合利用率 = 综合利用量 ÷ (产生量 + 综合利用往年贮存量)
    产生量 = (综合利用量 − 其中往年贮存) + 贮存量 + (处置量 − 其中往年贮存) + 倾倒丢弃量

Quantities are integer kilograms (exact to the kg, summable without drift);
rates are ``Decimal`` fractions; tonnes exist only as text at the edges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_EVEN, Decimal, Inexact, localcontext

__all__ = [
    "MAX_KG",
    "RATE_PLACES",
    "FlowTotals",
    "kg_to_tonnes_str",
    "tonnes_to_kg",
    "utilisation_rate",
]

RATE_PLACES = 6  # 0.123456 = 12.3456 %: enough for a percentage shown to 2 places
_RATE_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)
# Sanity bound, not a domain limit: 10^12 t is far beyond any real figure and
# keeps a million summed entries inside a 64-bit BIGINT column.
MAX_KG = 10**15
_TONNES_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def _require_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int number of kilograms, got {type(value).__name__}")
    return value


def _require_kg(name: str, value: object) -> int:
    _require_int(name, value)
    if value < 0:
        raise ValueError(f"{name} cannot be negative ({value} kg)")
    return value


def utilisation_rate(
    utilised: int, generated: int, utilised_from_prior_storage: int = 0
) -> Decimal | None:
    """utilised / (generated + utilised_from_prior_storage) as a Decimal fraction.

    Returned unclamped (a value above 1 means the inputs do not balance) and
    rounded half-even to ``RATE_PLACES``; None when nothing was generated or
    taken from storage, because 0/0 is "no data", not 0 % or 100 %.
    """
    for name, value in (("utilised", utilised), ("generated", generated),
                        ("utilised_from_prior_storage", utilised_from_prior_storage)):
        _require_kg(name, value)
    denominator = generated + utilised_from_prior_storage
    if denominator == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 50  # exact enough for any int kg up to MAX_KG-scale sums
        return (Decimal(utilised) / Decimal(denominator)).quantize(_RATE_QUANTUM, ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class FlowTotals:
    """Flow figures (kg) for one enterprise × waste × period, or any aggregate.

    Mirrors 附表2 (流向汇总表). ``*_from_prior_storage`` are the "其中" parts:
    already included in the utilised / disposed totals, so they may not exceed
    them. ``stored`` is the net amount of the period's own generation put into
    storage (in minus out, not closing stock); it may be negative in a month
    that draws down stock laid in earlier in the same year.
    """

    generated: int = 0
    self_utilised: int = 0
    entrusted_utilised: int = 0
    utilised_from_prior_storage: int = 0
    self_disposed: int = 0
    entrusted_disposed: int = 0
    disposed_from_prior_storage: int = 0
    stored: int = 0
    dumped: int = 0
    in_transit: int = 0  # entrusted shipments of the period not yet utilised/disposed by the receiver

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "stored":
                _require_int(f.name, self.stored)
            else:
                _require_kg(f.name, getattr(self, f.name))
        if self.utilised_from_prior_storage > self.utilised:
            raise ValueError("utilised_from_prior_storage is part of utilised and cannot exceed it")
        if self.disposed_from_prior_storage > self.disposed:
            raise ValueError("disposed_from_prior_storage is part of disposed and cannot exceed it")

    @property
    def utilised(self) -> int:
        """综合利用量: self plus entrusted utilisation (backfill included upstream)."""
        return self.self_utilised + self.entrusted_utilised

    @property
    def disposed(self) -> int:
        """处置量: self plus entrusted disposal (landfill is disposal, not utilisation)."""
        return self.self_disposed + self.entrusted_disposed

    @property
    def utilisation_rate(self) -> Decimal | None:
        return utilisation_rate(self.utilised, self.generated, self.utilised_from_prior_storage)

    def balance_difference(self) -> int:
        """产生量 minus its accounted destinations, in kg; 0 when the figures balance.

        Positive: waste generated but not accounted for; negative: more
        accounted for than generated.
        """
        accounted = (
            (self.utilised - self.utilised_from_prior_storage)
            + self.stored
            + (self.disposed - self.disposed_from_prior_storage)
            + self.dumped
            + self.in_transit
        )
        return self.generated - accounted

    def is_balanced(self, tolerance_kg: int = 0) -> bool:
        """True when |balance_difference| ≤ tolerance (weighbridge rounding, say)."""
        _require_kg("tolerance_kg", tolerance_kg)
        return abs(self.balance_difference()) <= tolerance_kg

    def __add__(self, other: object) -> FlowTotals:
        if not isinstance(other, FlowTotals):
            return NotImplemented
        summed = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        return FlowTotals(**summed)

    def __radd__(self, other: object) -> FlowTotals:
        """Lets ``sum(totals)`` work: the built-in starts from 0."""
        if other == 0 and not isinstance(other, bool):
            return self
        return NotImplemented


def kg_to_tonnes_str(kg: int) -> str:
    """Exact tonnes with 3 decimals ("1234.567"); negative allowed (differences)."""
    if isinstance(kg, bool) or not isinstance(kg, int):
        raise TypeError(f"kg must be an int, got {type(kg).__name__}")
    whole, rest = divmod(abs(kg), 1000)
    return f"{'-' if kg < 0 else ''}{whole}.{rest:03d}"


def _parse_tonnes(value: object) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        # A float here means a quantity was parsed as binary floating point
        # upstream; 0.1 t is not exactly representable, so we refuse rather
        # than silently round. Pass the user's text or a Decimal instead.
        raise ValueError("tonnes must be given as text, Decimal or int, not float/bool")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"tonnes must be a finite number, got {value}")
        return value
    if isinstance(value, str):
        text = value.strip()
        if not _TONNES_RE.fullmatch(text):
            raise ValueError(f"not a number of tonnes: {value!r} (use digits and '.', e.g. 12.5)")
        return Decimal(text)
    raise ValueError(f"tonnes must be text, Decimal or int, got {type(value).__name__}")


def tonnes_to_kg(value: str | Decimal | int) -> int:
    """Convert a tonnage to exact integer kilograms, refusing anything lossy.

    Refused with ValueError: floats, NaN/inf, negatives, more than 3 significant
    decimals (finer than a kilogram), exponent or grouped spellings ("1e3",
    "1,000"), and values above ``MAX_KG``. Trailing zeros ("1.5000") are exact
    and accepted.
    """
    tonnes = _parse_tonnes(value)
    if tonnes < 0:
        raise ValueError(f"tonnes cannot be negative, got {value}")
    if tonnes > Decimal(MAX_KG) / 1000:
        raise ValueError(f"{value} t is beyond the accepted maximum ({MAX_KG // 1000} t)")
    with localcontext() as ctx:
        ctx.prec = 60  # magnitude is bounded above, so only sub-kg digits can be lost
        ctx.traps[Inexact] = True
        try:
            kg = tonnes.scaleb(3)
        except Inexact:
            kg = None
    if kg is None or kg != kg.to_integral_value():
        raise ValueError(f"{value} t has more than 3 decimals (finer than 1 kg)")
    return int(kg)
