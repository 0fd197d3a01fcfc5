"""Transfer slips: the chain of signatures, the ledger lines they write, who may do what, bad input.

Refusals are checked in the words a user reads: the platform speaks Chinese first.
"""
from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from sqlalchemy import select

from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_ledger_cli import tamper  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from tests.services.transfer_world import (TODAY, carry, emit, fresh, operate, published_slip, receive, shipping,  # noqa: F401
                                           sign, slip_data)
from wasteex.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.ledger import chain_store
from wasteex.ledger.models import EntryKind, EntrySource, LedgerEntry
from wasteex.ledger.stats import StatsFilter, closing_stock_kg, flow_totals
from wasteex.transfers import service, signing
from wasteex.transfers.models import TransferSignature
from wasteex.transfers.states import Acceptance, SlipStatus


def entries(enterprise) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.enterprise_id == enterprise.id)
                                   .order_by(LedgerEntry.seq)))


def producer_flow(w):
    return flow_totals(StatsFilter(year=date.today().year, enterprise_ids=(w.a.id,)))


def refused(call, *args, **kwargs):
    with pytest.raises((ValidationFailed, InvalidTransition, PermissionDenied, NotFound, Conflict)) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


def test_a_shipment_signed_from_emission_to_operation_writes_both_ledgers(shipping):
    w = shipping
    slip = published_slip(w)
    assert slip.number.startswith("WX-") and slip.status is SlipStatus.PUBLISHED
    assert w.agreement.remaining_kg == 770_000  # 30 t planned against the 800 t agreed

    emit(w, slip)
    (out,) = entries(w.a)
    assert (out.kind, out.quantity_kg, out.source, out.reference) == (
        EntryKind.ENTRUSTED_UTILISATION, 30_000, EntrySource.TRANSFER, slip.number)
    assert (out.carrier_name, out.plate_number, out.counterparty_credit_code, out.contract_number) == (
        "丁物流", "蒙K12345", w.c.credit_code, w.agreement.contract_no)
    flow = producer_flow(w)
    assert (flow.entrusted_utilised, flow.in_transit) == (0, 30_000)  # not counted before the operation

    carry(w, slip)
    receive(w, slip, "29.8")
    assert slip.status is SlipStatus.RECEIVED and slip.acceptance is Acceptance.ACCEPTED
    assert slip.discrepancy_kg is None  # 0.7 % is within the 2 % tolerance
    (received,) = entries(w.c)
    assert (received.kind, received.quantity_kg, received.counterparty_name) == (EntryKind.RECEIVED, 29_800, "甲电厂")
    assert producer_flow(w).entrusted_utilised == 0

    operate(w, slip)
    assert slip.status is SlipStatus.CLOSED
    assert [e.kind for e in entries(w.c)] == [EntryKind.RECEIVED, EntryKind.RECEIVED_UTILISED]
    flow = producer_flow(w)
    assert (flow.entrusted_utilised, flow.in_transit) == (30_000, 0)
    assert [s.act.value for s in slip.signatures] == ["emission", "transport", "reception", "operation"]
    assert all(s.user_id and s.signed_at for s in slip.signatures)
    for enterprise in (w.a, w.c):
        assert chain_store.verify_enterprise(enterprise.id).ok


def test_a_partial_refusal_returns_the_refused_tonnes_to_the_producers_storage(shipping):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    carry(w, slip)
    receive(w, slip, "30", refused="5", reason="含水率超标")
    assert slip.acceptance is Acceptance.PARTIAL and slip.accepted_kg == 25_000
    returned = entries(w.a)[-1]
    assert (returned.kind, returned.quantity_kg, returned.reference) == (EntryKind.RETURNED, 5_000, f"{slip.number}-R")
    assert entries(w.c)[0].quantity_kg == 25_000
    operate(w, slip)
    flow = producer_flow(w)
    assert (flow.entrusted_utilised, flow.stored, flow.in_transit) == (25_000, 5_000, 0)
    assert closing_stock_kg(StatsFilter(year=date.today().year, enterprise_ids=(w.a.id,))) == 5_000


def test_a_refused_load_goes_back_whole_and_needs_no_operation(shipping):
    w = shipping
    slip = published_slip(w)
    emit(w, slip, "30")
    carry(w, slip)
    receive(w, slip, "31", refused="31", reason="混入生活垃圾")
    assert slip.status is SlipStatus.REFUSED and slip.acceptance is Acceptance.REFUSED
    assert entries(w.c) == []  # nothing accepted, nothing received on the utiliser's books
    assert entries(w.a)[-1].quantity_kg == 30_000  # the producer's own dispatch weight comes back
    assert (producer_flow(w).in_transit, producer_flow(w).entrusted_utilised) == (0, 0)
    assert "已办结" in refused(operate, w, slip).message


def test_disposal_instead_of_utilisation_is_counted_as_disposal(shipping):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    receive(w, slip)
    operate(w, slip, route="landfill_class_i")
    flow = producer_flow(w)
    assert (flow.entrusted_utilised, flow.entrusted_disposed) == (0, 30_000)
    assert entries(w.c)[-1].kind is EntryKind.RECEIVED_DISPOSED


def test_the_receiver_can_close_over_an_unsigned_carrier_leg_which_is_flagged(shipping):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    receive(w, slip, "28")
    assert slip.legs_unsigned == 1
    assert slip.discrepancy_kg == -2_000  # 6.7 % short: beyond the tolerance


def test_signatures_out_of_order_or_by_the_wrong_party_are_refused(shipping):
    w = shipping
    draft = service.create(w.alice, w.agreement.id, slip_data(w))
    db.session.commit()
    assert "请先发布联单" in refused(emit, w, draft).message
    slip = published_slip(w)
    assert isinstance(refused(sign, w.carol, slip, "emission", dispatched_t="30", dispatched_on=TODAY,
                              handler="x"), PermissionDenied)
    assert "尚未进行出厂签章" in refused(receive, w, slip).message
    emit(w, slip)
    assert "已签章" in refused(emit, w, slip).message
    assert "请先完成接收签章" in refused(operate, w, slip).message
    assert isinstance(refused(sign, w.alice, slip, "transport", taken_over_on=TODAY), PermissionDenied)
    assert isinstance(refused(sign, w.regulator, slip, "reception", received_t="30", received_on=TODAY,
                              handler="x"), PermissionDenied)
    assert db.session.scalar(select(TransferSignature.act).where(TransferSignature.slip_id == slip.id,
                                                                 TransferSignature.act != "emission")) is None


@pytest.mark.parametrize("tonnes, message", [("-3", "大于0"), ("0", "大于0"), ("101", "不合理"),
                                             ("1.2345", "3位小数"), ("abc", "3位小数")])
def test_absurd_weights_are_refused_and_nothing_is_written(shipping, tonnes, message):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    error = refused(receive, w, slip, tonnes)
    assert "received_t" in error.fields and message in error.message
    assert slip.status is SlipStatus.EMITTED and entries(w.c) == []


def test_a_ledger_refusal_aborts_the_whole_signature(shipping):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    receive(w, slip)
    error = refused(operate, w, slip, route="no_such_route")
    assert "route_key" in error.fields
    db.session.refresh(slip)
    assert slip.status is SlipStatus.RECEIVED and len(entries(w.c)) == 1 and len(slip.signatures) == 2


def test_plates_must_be_chinese_plates_and_new_energy_ones_are_accepted(shipping):
    w = shipping
    bad = slip_data(w, legs=[{"carrier_id": w.d.id, "plates": "AB12345", "driver": "李"}])
    assert "plates" in refused(service.create, w.alice, w.agreement.id, bad).fields
    good = slip_data(w, legs=[{"carrier_id": w.d.id, "plates": "蒙K12345D, 蒙KD12345、蒙K6789挂", "driver": "李"}])
    slip = service.create(w.alice, w.agreement.id, good)
    assert slip.legs[0].plates == ["蒙K12345D", "蒙KD12345", "蒙K6789挂"]


def test_an_exhausted_agreement_takes_no_more_slips(shipping):
    w = shipping
    for _ in range(8):
        service.create(w.alice, w.agreement.id, slip_data(w, planned_t="100"))
    db.session.commit()
    assert w.agreement.remaining_kg == 0
    assert "planned_t" in refused(service.create, w.alice, w.agreement.id, slip_data(w)).fields


def test_a_discarded_draft_gives_its_tonnes_back(shipping):
    w = shipping
    slip = service.create(w.alice, w.agreement.id, slip_data(w))
    db.session.commit()
    service.discard(w.alice, slip.id)
    db.session.commit()
    assert w.agreement.remaining_kg == 800_000


def test_drafts_are_private_to_their_author_and_published_slips_to_the_parties(shipping):
    w = shipping
    draft = service.create(w.alice, w.agreement.id, slip_data(w))
    db.session.commit()
    for outsider in (w.carol, w.dave, w.regulator, w.bob):
        assert isinstance(refused(service.get_slip, outsider, draft.id), NotFound)
    service.publish(w.alice, draft.id)
    db.session.commit()
    for party in (w.alice, w.carol, w.dave, w.regulator):
        assert service.get_slip(party, draft.id).id == draft.id
    assert isinstance(refused(service.get_slip, w.bob, draft.id), NotFound)


def test_bulk_signing_reports_every_slip(shipping):
    w = shipping
    ready = [published_slip(w) for _ in range(3)]
    for slip in ready[:2]:
        emit(w, slip)
    outcomes = signing.sign_many(w.dave, [s.id for s in ready], "transport", {"taken_over_on": TODAY},
                                 evidence=fresh(w.dave))
    db.session.commit()
    assert [o.ok for o in outcomes] == [True, True, False]
    assert "尚未进行出厂签章" in outcomes[2].message
    assert [s.status for s in ready] == [SlipStatus.TRANSPORTED, SlipStatus.TRANSPORTED, SlipStatus.PUBLISHED]


def test_signing_needs_a_recent_authentication(shipping):
    from wasteex.accounts.reauth import AuthEvidence, ReauthRequired
    w = shipping
    slip = published_slip(w)
    with pytest.raises(ReauthRequired):
        signing.sign(w.alice, slip.id, "emission", {"dispatched_t": "30", "dispatched_on": TODAY, "handler": "王"},
                     evidence=AuthEvidence())


def test_boxes_show_each_party_what_waits_for_it_and_search_finds_own_references(shipping):
    from wasteex.transfers.queries import Box, slips_for
    w = shipping
    first, second = published_slip(w), published_slip(w)
    emit(w, first)

    def box(user, which, q=""):
        return [s.id for s in db.session.scalars(slips_for(user, which, q))]

    assert box(w.alice, Box.TO_SIGN) == [second.id]  # emission of the second
    assert box(w.dave, Box.TO_SIGN) == [first.id]
    assert box(w.carol, Box.TO_SIGN) == [first.id]  # reception may close over the unsigned leg
    assert box(w.carol, Box.IN_TRANSIT) == [first.id]
    assert box(w.bob, Box.ALL) == [] and set(box(w.regulator, Box.ALL)) == {first.id, second.id}
    service.tag(w.carol, first.id, "ERP-2026-0042")
    db.session.commit()
    assert box(w.carol, Box.ALL, "0042") == [first.id]
    assert box(w.alice, Box.ALL, "0042") == []  # another enterprise's reference finds nothing
    assert box(w.alice, Box.ALL, second.number.lower()) == [second.id]


def test_overdue_and_discrepant_slips_are_flagged(shipping):
    from datetime import timedelta

    from wasteex.database import utcnow
    from wasteex.transfers.queries import Flag, flagged_slips
    w = shipping
    late, short = published_slip(w), published_slip(w)
    emit(w, late)
    emit(w, short)
    receive(w, short, "25")
    flagged = {f.slip.id: f.flags for f in flagged_slips(utcnow() + timedelta(hours=73))}
    assert flagged[late.id] == (Flag.OVERDUE_IN_TRANSIT,)
    assert flagged[short.id] == (Flag.DISCREPANCY, Flag.LEG_UNSIGNED)
    assert late.id not in {f.slip.id for f in flagged_slips(utcnow())}
    assert {f.slip.id for f in flagged_slips(utcnow(), w.bob)} == set()


# Revisions ------------------------------------------------------------------------

def test_a_correction_applies_only_when_the_counterparty_approves_and_keeps_the_original(shipping):
    from wasteex.transfers import revisions
    from wasteex.transfers.models import RevisionStatus
    w = shipping
    slip = published_slip(w)
    revision = revisions.request(w.alice, slip.id, {"changes": {"planned_t": "40", "plates": "蒙K12345 蒙K54321"},
                                                     "reason": "加派一辆车"})
    db.session.commit()
    assert slip.planned_kg == 30_000 and revision.changes["planned_t"] == ["30", "40"]
    assert isinstance(refused(revisions.decide, w.alice, revision.id, True), PermissionDenied)  # not its own
    assert "note" in refused(revisions.decide, w.carol, revision.id, False).fields  # a rejection says why
    revisions.decide(w.carol, revision.id, True)
    db.session.commit()
    assert revision.status is RevisionStatus.APPROVED
    assert (slip.planned_kg, slip.legs[0].plates) == (40_000, ["蒙K12345", "蒙K54321"])
    assert w.agreement.remaining_kg == 760_000


def test_a_weighbridge_correction_in_transit_reverses_and_rewrites_the_producers_line(shipping):
    from wasteex.transfers import revisions
    w = shipping
    slip = published_slip(w)
    emit(w, slip, "30")
    assert "planned_t" in refused(revisions.request, w.alice, slip.id,
                                  {"changes": {"planned_t": "31"}, "reason": "x"}).fields  # frozen by the emission
    revision = revisions.request(w.alice, slip.id, {"changes": {"dispatched_t": "32.5"}, "reason": "磅单录错"})
    revisions.decide(w.carol, revision.id, True)
    db.session.commit()
    original, reversal, replacement = entries(w.a)
    assert (reversal.quantity_kg, reversal.corrects_id) == (-30_000, original.id)
    assert (replacement.quantity_kg, replacement.corrects_id, replacement.reference) == (
        32_500, original.id, f"{slip.number}-C1")
    assert producer_flow(w).in_transit == 32_500
    receive(w, slip, "32.5")
    operate(w, slip)
    assert (producer_flow(w).in_transit, producer_flow(w).entrusted_utilised) == (0, 32_500)
    assert chain_store.verify_enterprise(w.a.id).ok


def test_cancellation_before_emission_frees_the_tonnes_and_is_refused_after(shipping):
    from wasteex.transfers import revisions
    w = shipping
    slip = published_slip(w)
    revision = revisions.request(w.carol, slip.id, {"cancel": True, "reason": "设备检修"})
    db.session.commit()
    assert refused(revisions.request, w.alice, slip.id, {"cancel": True, "reason": "x"}).message  # one at a time
    revisions.decide(w.alice, revision.id, True)
    db.session.commit()
    assert slip.status is SlipStatus.CANCELLED and w.agreement.remaining_kg == 800_000
    moving = published_slip(w)
    emit(w, moving)
    assert "不能作废" in refused(revisions.request, w.carol, moving.id, {"cancel": True, "reason": "x"}).message


def test_the_lifecycle_of_a_slip_lists_every_step_with_its_ledger_lines_checked(shipping, tamper):
    from wasteex.transfers import lifecycle
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    carry(w, slip)
    receive(w, slip, "30", refused="2", reason="杂质")
    operate(w, slip)
    events = lifecycle.of_slip(w.regulator, slip.id)
    assert [e.stage for e in events] == ["created", "published", "emission", "transport", "reception", "operation"]
    reception = events[4]
    assert [c.entry.kind for c in reception.entries] == [EntryKind.RECEIVED, EntryKind.RETURNED]
    assert all(c.intact for e in events for c in e.entries)
    # Alter a stored line behind the application's back: the lifecycle shows it.
    tamper(("UPDATE ledger_entry SET quantity_kg = 1 WHERE id = :id", {"id": reception.entries[0].entry.id}))
    events = lifecycle.of_agreement(w.carol, w.agreement.id)
    assert [c.intact for c in events[4].entries] == [False, True]
    assert [e.stage for e in lifecycle.of_stream(w.alice, w.stream.id)][-1] == "operation"


# Notifications ----------------------------------------------------------------------

def inbox_subjects(user) -> list[str]:
    """What the slips told ``user`` (the matcher run before them told of proposals)."""
    from wasteex.notifications.models import Notification, NotificationKind
    return list(db.session.scalars(select(Notification.subject).where(
        Notification.user_id == user.id, Notification.kind != NotificationKind.PROPOSAL_RECEIVED).order_by(Notification.id)))


def test_each_party_hears_when_its_signature_is_awaited_and_of_refusals(shipping):
    w = shipping
    slip = published_slip(w)
    assert inbox_subjects(w.alice) == []  # the actor is not told of its own act
    emit(w, slip)
    assert inbox_subjects(w.dave) == ["Slip %(number)s: the load awaits your carrier's signature"]
    carry(w, slip)
    assert "Slip %(number)s is on its way to you: sign the reception" in inbox_subjects(w.carol)
    receive(w, slip, "30", refused="2", reason="杂质")
    assert inbox_subjects(w.alice)[-1].startswith("Slip %(number)s: %(received_t)s t received")


def test_overdue_slips_are_announced_once(app, shipping):
    from datetime import timedelta

    from wasteex.database import utcnow
    from wasteex.transfers.follow_up import announce_overdue
    from wasteex.transfers.queries import flagged_slips
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    later = utcnow() + timedelta(hours=80)
    assert announce_overdue(flagged_slips(later), later) == 1
    assert announce_overdue(flagged_slips(later), later) == 0
    db.session.commit()
    assert inbox_subjects(w.carol)[-1] == "Slip %(number)s is overdue: dispatched but not received in time"
    assert "0 overdue" in app.test_cli_runner().invoke(args=["transfers", "follow-up"]).output


def test_each_signature_is_a_line_of_the_security_log(shipping, caplog):
    w = shipping
    slip = published_slip(w)
    with caplog.at_level(logging.INFO, logger="wasteex.security"):
        emit(w, slip)
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if '"slip.signed"' in r.getMessage()]
    assert (line["user_id"], line["enterprise_id"], line["slip"], line["kind"]) == (w.alice.id, w.a.id, slip.number,
                                                                                   "emission")
