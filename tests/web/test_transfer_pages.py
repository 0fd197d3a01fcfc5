"""Transfer slips through the pages: each party from its own account, the ledgers they write, bad input,
bulk signing, the printable slip and its public verification."""
from __future__ import annotations

import re
import zlib

import pytest
from sqlalchemy import select

from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from tests.services.transfer_world import TODAY, emit, published_slip, shipping, slip_data  # noqa: F401
from tests.web.pages import field_error
from tests.web.test_exchange_pages import logged_in
from wasteex.extensions import db
from wasteex.ledger.models import EntryKind, EntrySource, LedgerEntry
from wasteex.transfers import service
from wasteex.transfers.models import TransferSlip
from wasteex.transfers.printout import verification_token
from wasteex.transfers.states import Acceptance, SlipStatus


def entries(enterprise) -> list[LedgerEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.enterprise_id == enterprise.id)
                                   .order_by(LedgerEntry.seq)))


def new_slip_form(w, **changes) -> dict:
    form = {"planned_t": "30", "planned_on": TODAY, "itinerary": "S24 省道", "carrier_id": str(w.d.id),
            "plates": "蒙K12345, 蒙K2345D", "driver": "李师傅", "second_carrier_id": "", "second_plates": "",
            "second_driver": ""}
    return form | changes


def sign(client, slip, kind, **data):
    return client.post(f"/transfers/{slip.id}/sign/{kind}", data=data)


def html(response) -> str:
    return response.get_data(as_text=True)


CJK_FONTS = (b"CJK-SC", b"WenQuanYi")  # the families slip-print.css names, as PDF base fonts


def pdf_fonts(data: bytes) -> set[bytes]:
    """The fonts a PDF embeds, from its (possibly compressed) object streams."""
    flate = re.finditer(rb"FlateDecode.*?stream\r?\n(.*?)\r?\nendstream", data, re.S)
    streams = [data] + [zlib.decompress(m.group(1)) for m in flate]
    return {name for chunk in streams for name in re.findall(rb"/BaseFont\s*/([\w+\-]+)", chunk)}


def test_a_slip_from_the_agreement_page_to_closed_each_party_signing_on_its_own_page(client, shipping):
    w = shipping
    alice, carol, dave = (logged_in(client, u) for u in (w.alice, w.carol, w.dave))
    agreement_page = html(alice.get(f"/agreements/{w.agreement.id}"))
    assert f"/transfers/new?agreement={w.agreement.id}" in agreement_page
    assert "/transfers/new" not in html(logged_in(client, w.regulator).get(f"/agreements/{w.agreement.id}"))

    response = alice.post(f"/transfers/new?agreement={w.agreement.id}", data=new_slip_form(w))
    assert response.status_code == 302
    slip = db.session.scalar(select(TransferSlip))
    assert response.headers["Location"].endswith(f"/transfers/{slip.id}")
    assert slip.legs[0].plates == ["蒙K12345", "蒙K2345D"] and slip.status is SlipStatus.DRAFT
    assert slip.number in html(alice.get(f"/agreements/{w.agreement.id}"))
    assert alice.post(f"/transfers/{slip.id}/publish").status_code == 302

    assert sign(alice, slip, "emission", dispatched_t="30", dispatched_on=TODAY, handler="王工").status_code == 302
    (shipped,) = entries(w.a)
    assert (shipped.kind, shipped.quantity_kg, shipped.source, shipped.reference) == (
        EntryKind.ENTRUSTED_UTILISATION, 30_000, EntrySource.TRANSFER, slip.number)
    page = html(alice.get(f"/transfers/{slip.id}"))
    assert f"/ledger/entries/{shipped.id}" in page and "王工" in page and "127.0.0.1" in page

    assert "/sign/transport" in html(dave.get(f"/transfers/{slip.id}"))
    assert sign(dave, slip, "transport", taken_over_on=TODAY).status_code == 302
    assert f"/ledger/entries/{shipped.id}" not in html(dave.get(f"/transfers/{slip.id}"))  # not the carrier's ledger

    assert sign(carol, slip, "reception", received_t="30", refused_t="4", refusal_reason="含水率超标",
                received_on=TODAY, handler="赵工").status_code == 302
    db.session.refresh(slip)
    assert slip.acceptance is Acceptance.PARTIAL
    assert [(e.kind, e.quantity_kg) for e in entries(w.c)] == [(EntryKind.RECEIVED, 26_000)]
    assert (entries(w.a)[-1].kind, entries(w.a)[-1].quantity_kg) == (EntryKind.RETURNED, 4_000)

    page = html(carol.get(f"/transfers/{slip.id}"))
    assert 'name="route_key"' in page and "cement_admixture" in page and "landfill_class_i" in page
    assert "gypsum_board" not in page  # a route for other waste codes is not offered
    assert sign(carol, slip, "operation", route_key="cement_admixture", operated_on=TODAY, product="水泥",
                handler="赵工").status_code == 302
    db.session.refresh(slip)
    assert slip.status is SlipStatus.CLOSED
    assert entries(w.c)[-1].kind is EntryKind.RECEIVED_UTILISED
    for party in (alice, carol, dave, logged_in(client, w.regulator)):
        page = html(party.get(f"/transfers/{slip.id}"))
        assert slip.number in page and "含水率超标" in page and "/sign/" not in page


def test_drafts_are_private_and_only_the_signing_party_gets_a_form(client, shipping):
    w = shipping
    draft = service.create(w.alice, w.agreement.id, slip_data(w))
    db.session.commit()
    for outsider in (w.carol, w.dave, w.regulator, w.bob):
        assert logged_in(client, outsider).get(f"/transfers/{draft.id}").status_code == 404
    slip = published_slip(w)
    carol, bob, regulator = (logged_in(client, u) for u in (w.carol, w.bob, w.regulator))
    assert bob.get(f"/transfers/{slip.id}").status_code == 404
    assert "/sign/" not in html(carol.get(f"/transfers/{slip.id}"))  # the producer signs first
    emission = {"dispatched_t": "30", "dispatched_on": TODAY, "handler": "x"}
    assert sign(carol, slip, "emission", **emission).status_code == 403
    assert sign(regulator, slip, "emission", **emission).status_code == 403
    assert sign(bob, slip, "emission", **emission).status_code == 404
    assert carol.post(f"/transfers/{draft.id}/publish").status_code == 404
    assert entries(w.a) == []


def test_field_errors_are_shown_next_to_the_fields(client, shipping):
    w = shipping
    alice = logged_in(client, w.alice)
    response = alice.post(f"/transfers/new?agreement={w.agreement.id}",
                          data=new_slip_form(w, plates="AB12345", second_carrier_id=str(w.d.id), second_plates="蒙K1",
                                             second_driver="张"))
    assert response.status_code == 422 and "AB12345" in field_error(html(response), "plates")
    response = alice.post(f"/transfers/new?agreement={w.agreement.id}",
                          data=new_slip_form(w, second_carrier_id=str(w.d.id), second_plates="蒙K1", second_driver="张"))
    assert response.status_code == 422 and field_error(html(response), "second_plates")
    response = alice.post(f"/transfers/new?agreement={w.agreement.id}", data=new_slip_form(w, planned_t="-3"))
    assert response.status_code == 422 and field_error(html(response), "planned_t")
    assert db.session.scalar(select(TransferSlip)) is None

    slip = published_slip(w)
    emit(w, slip)
    carol = logged_in(client, w.carol)
    response = sign(carol, slip, "reception", received_t="30", refused_t="31", refusal_reason="x", received_on=TODAY,
                    handler="赵工")
    assert response.status_code == 422 and field_error(html(response), "refused_t")
    response = sign(carol, slip, "reception", received_t="30", refused_t="2", refusal_reason="", received_on=TODAY,
                    handler="赵工")
    assert response.status_code == 422 and "is-invalid" in html(response)
    assert entries(w.c) == [] and db.session.get(TransferSlip, slip.id).status is SlipStatus.EMITTED


def test_a_stale_session_is_sent_to_confirm_the_password_before_signing(client, shipping):
    w = shipping
    slip = published_slip(w)
    alice = logged_in(client, w.alice)
    with alice.session_transaction() as session:
        session["reauth_at"] -= 60 * 60
    response = alice.post(f"/transfers/{slip.id}/sign/emission",
                          headers={"Referer": f"http://localhost/transfers/{slip.id}"},
                          data={"dispatched_t": "30", "dispatched_on": TODAY, "handler": "王工"})
    assert response.status_code == 302 and "/account/reauth" in response.headers["Location"]
    assert f"next=/transfers/{slip.id}" in response.headers["Location"]
    assert entries(w.a) == []


def test_discarding_a_draft_gives_the_tonnes_back(client, shipping):
    w = shipping
    draft = service.create(w.alice, w.agreement.id, slip_data(w))
    db.session.commit()
    response = logged_in(client, w.alice).post(f"/transfers/{draft.id}/discard")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/agreements/{w.agreement.id}")
    db.session.expire_all()
    assert db.session.get(TransferSlip, draft.id) is None and w.agreement.remaining_kg == 800_000


def test_the_boxes_search_by_our_own_reference_and_filter_by_status(client, shipping):
    w = shipping
    first, second = published_slip(w), published_slip(w)
    emit(w, first)
    alice, carol = logged_in(client, w.alice), logged_in(client, w.carol)
    assert "/transfers" in html(alice.get("/")) and "/transfers" in html(logged_in(client, w.regulator).get("/"))
    to_sign = html(alice.get("/transfers"))
    assert second.number in to_sign and first.number not in to_sign
    assert carol.post(f"/transfers/{first.id}/tag", data={"reference": "ERP-2026-0042"}).status_code == 302
    found = html(carol.get("/transfers?box=all&q=0042"))
    assert first.number in found and second.number not in found and "ERP-2026-0042" in found
    assert first.number not in html(alice.get("/transfers?box=all&q=0042"))
    emitted = html(alice.get("/transfers?box=all&status=emitted"))
    assert first.number in emitted and second.number not in emitted
    assert carol.post(f"/transfers/{second.id}/tag", data={"reference": "ERP-2026-0042"}).status_code == 422


def test_bulk_signing_reports_the_outcome_of_every_slip(client, shipping):
    w = shipping
    ready = [published_slip(w) for _ in range(3)]
    for slip in ready[:2]:
        emit(w, slip)
    dave = logged_in(client, w.dave)
    page = html(dave.get("/transfers/sign-many?act=transport"))
    assert ready[0].number in page and ready[1].number in page and ready[2].number not in page
    response = dave.post("/transfers/sign-many?act=transport",
                         data={"slip_ids": [str(s.id) for s in ready], "signed_on": TODAY, "handler": "调度"})
    outcome = html(response)
    assert response.status_code == 200 and 'id="bulk-outcomes"' in outcome
    rows = re.findall(r"<tr class=\"(table-danger)?\">", outcome)
    assert len(rows) == 3 and rows.count("table-danger") == 1
    db.session.expire_all()
    assert [db.session.get(TransferSlip, s.id).status for s in ready] == [
        SlipStatus.TRANSPORTED, SlipStatus.TRANSPORTED, SlipStatus.PUBLISHED]

    carol = logged_in(client, w.carol)
    response = carol.post("/transfers/sign-many?act=reception", data={
        "slip_ids": [str(ready[0].id), str(ready[1].id)], f"received_t-{ready[0].id}": "29.9",
        f"received_t-{ready[1].id}": "", "signed_on": TODAY, "handler": "赵工"})
    assert response.status_code == 200
    assert [(e.quantity_kg, e.reference) for e in entries(w.c)] == [(29_900, ready[0].number)]
    assert "table-danger" in html(response)  # the second had no weight

    response = carol.post("/transfers/sign-many?act=operation", data={
        "slip_ids": [str(ready[0].id)], "signed_on": TODAY, "handler": "赵工", "route_key": "", "product": "砖"})
    assert response.status_code == 200 and db.session.get(TransferSlip, ready[0].id).status is SlipStatus.CLOSED
    assert entries(w.c)[-1].route.key == w.agreement.demand.route.key  # each slip's agreed route

    nothing_ticked = carol.post("/transfers/sign-many?act=reception", data={"signed_on": TODAY, "handler": "赵工"})
    assert nothing_ticked.status_code == 422 and "alert-danger" in html(nothing_ticked)


def test_the_printable_slip_carries_a_qr_code_to_its_public_verification(client, shipping):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    page = html(logged_in(client, w.dave).get(f"/transfers/{slip.id}/print"))
    token = verification_token(slip.number)
    assert "<svg" in page and 'class="segno"' in page
    assert f"/verify/{slip.number}/{token}" in page
    assert "一般工业固体废物转移联单" in page or "General industrial solid waste transfer slip" in page

    document = logged_in(client, w.carol).get(f"/transfers/{slip.id}.pdf")
    assert document.mimetype == "application/pdf" and document.data.startswith(b"%PDF")
    # Chinese set in a CJK font, not boxes: Noto CJK when installed, else WenQuanYi (what .ci/run installs).
    assert any(font in name for name in pdf_fonts(document.data) for font in CJK_FONTS)
    assert logged_in(client, w.bob).get(f"/transfers/{slip.id}.pdf").status_code == 404

    public = client.application.test_client()  # nobody signed in
    page = html(public.get(f"/verify/{slip.number}/{token}"))
    assert slip.number in page and "甲电厂" in page and "丁物流" in page and "30.000" in page
    for private in ("王工", "李师傅", "蒙K12345", "127.0.0.1", str(w.agreement.price_per_t)):
        assert private not in page
    assert public.get(f"/verify/{slip.number}/{'0' * 16}").status_code == 404
    assert public.get(f"/verify/{slip.number}/{token[:-1]}").status_code == 404
    assert public.get(f"/verify/{slip.number}/{token}é").status_code == 404
    draft = service.create(w.alice, w.agreement.id, slip_data(w))
    db.session.commit()
    assert public.get(f"/verify/{draft.number}/{verification_token(draft.number)}").status_code == 404


@pytest.mark.parametrize("path", ["/transfers", "/transfers/sign-many", "/transfers/1", "/transfers/1/print"])
def test_pages_need_a_signed_in_user(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
