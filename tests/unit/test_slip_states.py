"""The slip's status machine, without a database: every act from every status."""
from __future__ import annotations

from decimal import Decimal

import pytest

from wasteex.transfers import states
from wasteex.transfers.states import Acceptance, Act, SlipFacts, SlipStatus, TransitionRefused

S = SlipStatus
ALLOWED = {
    (Act.PUBLISH, S.DRAFT): S.PUBLISHED,
    (Act.CANCEL, S.DRAFT): S.CANCELLED,
    (Act.CANCEL, S.PUBLISHED): S.CANCELLED,
    (Act.EMISSION, S.PUBLISHED): S.EMITTED,
    (Act.TRANSPORT, S.EMITTED): S.TRANSPORTED,
    (Act.TRANSPORT, S.TRANSPORTED): S.TRANSPORTED,
    (Act.RECEPTION, S.EMITTED): S.RECEIVED,
    (Act.RECEPTION, S.TRANSPORTED): S.RECEIVED,
    (Act.OPERATION, S.RECEIVED): S.CLOSED,
}


@pytest.mark.parametrize("act", list(Act))
@pytest.mark.parametrize("status", list(SlipStatus))
def test_the_table_allows_exactly_the_documented_moves(act, status):
    facts = SlipFacts(status, legs_total=2, legs_signed=1)
    if (act, status) in ALLOWED:
        assert states.check(act, facts) is ALLOWED[(act, status)]
    else:
        with pytest.raises(TransitionRefused) as refused:
            states.check(act, facts)
        assert refused.value.reason  # always a sentence for the user


def test_legs_are_signed_until_none_is_left():
    with pytest.raises(TransitionRefused, match="Every carrier leg"):
        states.check(Act.TRANSPORT, SlipFacts(S.TRANSPORTED, legs_total=2, legs_signed=2))
    assert states.unsigned_legs(SlipFacts(S.EMITTED, legs_total=2, legs_signed=0)) == 2


def test_a_whole_refusal_ends_the_slip_as_refused():
    assert states.check(Act.RECEPTION, SlipFacts(S.EMITTED, 1, 1, Acceptance.REFUSED)) is S.REFUSED
    assert states.check(Act.RECEPTION, SlipFacts(S.EMITTED, 1, 1, Acceptance.PARTIAL)) is S.RECEIVED


def test_messages_say_whether_an_act_is_early_late_or_final():
    assert "Publish" in _reason(Act.EMISSION, S.DRAFT)
    assert "already signed" in _reason(Act.EMISSION, S.RECEIVED)
    assert "reception" in _reason(Act.OPERATION, S.EMITTED)
    assert "finished" in _reason(Act.TRANSPORT, S.CLOSED)


def _reason(act, status) -> str:
    with pytest.raises(TransitionRefused) as refused:
        states.check(act, SlipFacts(status, 1, 0))
    return refused.value.reason


@pytest.mark.parametrize("received, refused, expected", [(30, 0, Acceptance.ACCEPTED), (30, 5, Acceptance.PARTIAL),
                                                         (30, 30, Acceptance.REFUSED)])
def test_acceptance_follows_the_refused_share(received, refused, expected):
    assert states.acceptance_of(received, refused) is expected


@pytest.mark.parametrize("dispatched, received, expected", [(30_000, 30_600, None), (30_000, 30_601, 601),
                                                            (30_000, 29_400, None), (30_000, 29_399, -601)])
def test_a_discrepancy_is_what_lies_beyond_the_tolerance(dispatched, received, expected):
    assert states.discrepancy_kg(dispatched, received, Decimal("0.02")) == expected
