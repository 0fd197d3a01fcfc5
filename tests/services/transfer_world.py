"""A concluded agreement and a carrier: the starting point of every transfer-slip test."""
from __future__ import annotations

from datetime import date

import pytest

from tests.factories import make_enterprise, make_user
from tests.services.test_agreements import run_once
from wasteex.accounts.reauth import AuthEvidence
from wasteex.accounts.session import now
from wasteex.agreements import service as agreements
from wasteex.extensions import db
from wasteex.transfers import service, signing


def fresh(user) -> AuthEvidence:
    """What a request shows right after sign-in: a recent authentication of this user."""
    return AuthEvidence(user_id=user.id, reauth_at=now())


@pytest.fixture
def shipping(traded):
    """A (producer) has agreed 800 t of fly ash with C (utiliser); D hauls."""
    w = traded
    (proposal,) = run_once(w.regulator).proposals
    agreements.decide(w.carol, proposal.id, accept=True)
    agreements.decide(w.alice, proposal.id, accept=True)
    db.session.commit()
    w.agreement = proposal.agreement
    w.dave = make_user("dave@d.cn", name="Dave")
    w.d = make_enterprise(w.dave, name="丁物流", producer=False, carrier=True)
    return w


def slip_data(w, **changes) -> dict:
    data = {"planned_t": "30", "planned_on": date.today().isoformat(), "itinerary": "S24 省道",
            "legs": [{"carrier_id": w.d.id, "plates": "蒙K12345", "driver": "李师傅"}]}
    return data | changes


def published_slip(w, **changes):
    slip = service.create(w.alice, w.agreement.id, slip_data(w, **changes))
    service.publish(w.alice, slip.id)
    db.session.commit()
    return slip


def sign(user, slip, kind, **data):
    result = signing.sign(user, slip.id, kind, data, evidence=fresh(user))
    db.session.commit()
    return result


TODAY = date.today().isoformat()


def emit(w, slip, tonnes="30"):
    return sign(w.alice, slip, "emission", dispatched_t=tonnes, dispatched_on=TODAY, handler="王工")


def carry(w, slip):
    return sign(w.dave, slip, "transport", taken_over_on=TODAY)


def receive(w, slip, tonnes="30", refused="0", reason=""):
    return sign(w.carol, slip, "reception", received_t=tonnes, refused_t=refused, refusal_reason=reason,
                received_on=TODAY, handler="赵工")


def operate(w, slip, route="cement_admixture"):
    return sign(w.carol, slip, "operation", route_key=route, operated_on=TODAY, product="水泥", handler="赵工")
