"""Demo custody: an agreement between the README's producer and utiliser, and slips on it.

One slip is closed (all four signatures, a partial refusal and a weight
discrepancy), one is on the road (emission signed), one is published and
waits for the producer — so a visitor sees every box, both ledgers, a
lifecycle and an anomaly without signing first.
Signed through the services, as the demo users, so the ledgers are real.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from wasteex.accounts.models import User
from wasteex.accounts.reauth import AuthEvidence
from wasteex.accounts.session import now
from wasteex.agreements import service as agreements
from wasteex.enterprises.models import Enterprise
from wasteex.extensions import db
from wasteex.market.models import Demand, Offer
from wasteex.transfers import service, signing

PRODUCER, UTILISER, CARRIER = "producer@demo.wasteex.cn", "utiliser@demo.wasteex.cn", "carrier@demo.wasteex.cn"


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _sign(user: User, slip_id: int, kind: str, data: dict) -> None:
    signing.sign(user, slip_id, kind, data, evidence=AuthEvidence(user_id=user.id, reauth_at=now()))


def seed_transfers(today: date) -> None:
    producer, utiliser, carrier = _user(PRODUCER), _user(UTILISER), _user(CARRIER)
    ours = producer.memberships[0].enterprise_id
    theirs = utiliser.memberships[0].enterprise_id
    offer = db.session.scalar(select(Offer).where(Offer.enterprise_id == ours, Offer.sw_code == "SW02"))
    demand = db.session.scalar(select(Demand).where(Demand.enterprise_id == theirs))
    proposal = agreements.propose(utiliser, {"offer_id": offer.id, "demand_id": demand.id, "tonnes": "3000"},
                                  yuan_per_tkm=Decimal("0.45"))
    agreement = agreements.decide(producer, proposal.id, accept=True).agreement
    hauler = db.session.get(Enterprise, carrier.memberships[0].enterprise_id)
    day = today.isoformat()

    def slip(plates: str, tonnes: str = "30"):
        made = service.create(producer, agreement.id, {
            "planned_t": tonnes, "planned_on": day, "itinerary": "薛家湾 → 大路工业园区（S103）",
            "legs": [{"carrier_id": hauler.id, "plates": plates, "driver": "王师傅"}]})
        service.publish(producer, made.id)
        return made

    closed = slip("蒙K35812")
    _sign(producer, closed.id, "emission", {"dispatched_t": "30.42", "dispatched_on": day, "handler": "赵工"})
    _sign(carrier, closed.id, "transport", {"taken_over_on": day})
    # 4 % lighter at the receiver's weighbridge than at dispatch: a discrepancy for the worklist.
    _sign(utiliser, closed.id, "reception", {"received_t": "29.18", "refused_t": "1.2", "refusal_reason": "夹杂炉渣块",
                                             "received_on": day, "handler": "孙工"})
    _sign(utiliser, closed.id, "operation", {"route_key": "sintered_brick", "operated_on": day,
                                             "product": "烧结砖", "handler": "孙工"})
    on_the_road = slip("蒙K2468D")
    _sign(producer, on_the_road.id, "emission", {"dispatched_t": "29.86", "dispatched_on": day, "handler": "赵工"})
    slip("蒙K35812, 蒙K2468D", tonnes="60")
    db.session.flush()

