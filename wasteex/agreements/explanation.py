"""What a proposal tells both parties: the facts of the pair, and why not another offer.

Stored as JSON on the proposal when it is made (the listings may change
afterwards; the reasons of the moment should not). Every number is a string
of a Decimal so that it reads exactly as computed; the pages and the API show
them as they are. The alternatives come from :func:`wasteex.matching.explain.explain`.
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from wasteex.market.models import Demand, Offer
from wasteex.matching.explain import OfferView

CENT, GRAM = Decimal("0.01"), Decimal("0.001")


def _s(value: Decimal | None, step: Decimal = CENT) -> str | None:
    return None if value is None else str(value.quantize(step, rounding=ROUND_HALF_EVEN))


def spread(offer: Offer, demand: Demand) -> Decimal:
    """What the utiliser offers per tonne minus what the producer asks (≥ 0: a price both accept)."""
    return demand.price_per_t - offer.price_per_t


def proposed_price(offer: Offer, demand: Demand) -> Decimal:
    """Split the spread evenly; with no overlap, the producer's asking price is the starting point."""
    gap = spread(offer, demand)
    if gap < 0:
        return offer.price_per_t
    return (offer.price_per_t + gap / 2).quantize(CENT, rounding=ROUND_HALF_EVEN)


def quality_margins(offer: Offer, demand: Demand) -> list[dict]:
    """Each limit of the demand, the offer's value, and by how much it is met (negative: missed)."""
    values = offer.quality_by_key()
    rows = []
    for key, limit in sorted(demand.limit_by_key().items()):
        stated = values.get(key)
        value = stated.value if stated else None
        margins = [value - limit.min_value if limit.min_value is not None and value is not None else None,
                   limit.max_value - value if limit.max_value is not None and value is not None else None]
        known = [m for m in margins if m is not None]
        rows.append({"key": key, "unit": limit.attribute.unit, "value": _s(value, Decimal("0.0001")),
                     "min": _s(limit.min_value, Decimal("0.0001")), "max": _s(limit.max_value, Decimal("0.0001")),
                     "margin": _s(min(known), Decimal("0.0001")) if known else None})
    return rows


def pair_facts(offer: Offer, demand: Demand, kg: int, metres: int, yuan_per_tkm: Decimal) -> dict:
    tonnes, km = Decimal(kg) / 1000, Decimal(metres) / 1000
    return {
        "km": _s(km, GRAM), "tonnes": _s(tonnes, GRAM), "yuan_per_tkm": _s(yuan_per_tkm, GRAM),
        "transport_yuan": _s(tonnes * km * yuan_per_tkm), "transport_yuan_per_t": _s(km * yuan_per_tkm),
        "ask_per_t": _s(offer.price_per_t), "bid_per_t": _s(demand.price_per_t),
        "spread_per_t": _s(spread(offer, demand)), "quality": quality_margins(offer, demand),
    }


def alternative(view: OfferView) -> dict:
    """One other offer the demand could have used, and where its tonnes went instead."""
    extra = view.extra_tonne_km_per_tonne
    return {"offer_id": int(view.offer_id), "km": _s(Decimal(str(view.km)), GRAM), "kind": view.kind,
            "elsewhere": [{"demand_id": int(d), "tonnes": _s(Decimal(str(t)), GRAM), "km": _s(Decimal(str(k)), GRAM)}
                          for d, t, k in view.elsewhere],
            "spare_tonnes": _s(Decimal(str(view.spare_tonnes)), GRAM),
            "extra_tkm_per_t": None if extra is None or extra == float("inf") else _s(Decimal(str(extra)), Decimal("0.1")),
            "reason": view.reason}
