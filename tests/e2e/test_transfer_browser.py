"""A shipment on the demo Ordos goes from agreement to closed slip in the browser, each party signing from
its own README login; the utiliser refuses part of the load and the producer's ledger shows it returned."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.e2e.harness import expect, new_page, screenshot, sign_in
from wasteex.accounts.service import find_user_by_email
from wasteex.agreements import service as agreements
from wasteex.demo.data import DEMO_PASSWORD
from wasteex.demo.seed import seed_demo
from wasteex.extensions import db
from wasteex.ledger.models import EntryKind, LedgerEntry
from wasteex.market.models import Demand, Offer
from wasteex.matching.runs import transport_rate
from wasteex.transfers.models import TransferSlip
from wasteex.transfers.states import Acceptance, SlipStatus

PRODUCER, UTILISER, CARRIER = (f"{who}@demo.wasteex.cn" for who in ("producer", "utiliser", "carrier"))


def demo_agreement(live):
    """The demo seed has the two README enterprises' fly-ash offer and brick-works demand but no agreement:
    the utiliser proposes 300 t and the producer accepts, through the service layer."""
    with live.app.test_request_context():
        seed_demo()
        producer, utiliser = find_user_by_email(PRODUCER), find_user_by_email(UTILISER)
        plant, works = producer.memberships[0].enterprise_id, utiliser.memberships[0].enterprise_id
        offer = db.session.scalar(select(Offer).where(Offer.enterprise_id == plant, Offer.sw_code == "SW02"))
        demand = db.session.scalar(select(Demand).where(Demand.enterprise_id == works))
        proposal = agreements.propose(utiliser, {"offer_id": offer.id, "demand_id": demand.id, "tonnes": "300",
                                                 "price_per_t": ""}, transport_rate())
        agreements.decide(producer, proposal.id, accept=True)
        db.session.commit()
        return proposal.agreement.id, plant


def party_page(browser, live, email, errors):
    page = new_page(browser, live, errors)
    page.on("dialog", lambda dialog: dialog.accept())  # "Sign now?" confirmations
    sign_in(page, email, DEMO_PASSWORD)
    return page


def sign_section(page, kind: str, **fields):
    form = page.locator(f"form[action$='/sign/{kind}']")
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator(f"form[action$='/sign/{kind}']")).to_have_count(0)


def open_from_to_sign_box(page, number: str):
    page.goto("/transfers")
    page.get_by_role("link", name=number).click()
    page.wait_for_url(re.compile(r"/transfers/\d+$"))


def test_a_shipment_from_agreement_to_closed_slip_in_the_browser(browser, live):
    agreement_id, plant_id = demo_agreement(live)
    db.session.remove()  # release the test thread's connection before the server writes
    errors: list[str] = []

    page = party_page(browser, live, PRODUCER, errors)
    page.goto(f"/agreements/{agreement_id}")
    page.locator(f"a[href='/transfers/new?agreement={agreement_id}']").click()
    page.fill("#planned_t", "30")
    page.fill("#itinerary", "大路坪电厂 → S24 → 大路工业园区")
    page.select_option("#carrier_id", label="鄂尔多斯市通达物流运输有限公司")
    page.fill("#plates", "蒙K12345, 蒙K2345D")
    page.fill("#driver", "李师傅")
    screenshot(page, "slip-new")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/transfers/\d+$"))
    slip_id = int(page.url.rsplit("/", 1)[1])
    number = db.session.get(TransferSlip, slip_id).number
    db.session.remove()
    page.locator("form[action$='/publish'] button").click()
    expect(page.locator("form[action$='/sign/emission']")).to_be_visible()
    sign_section(page, "emission", dispatched_t="30.2")
    screenshot(page, "slip-emitted")
    page.context.close()

    page = party_page(browser, live, CARRIER, errors)
    open_from_to_sign_box(page, number)
    sign_section(page, "transport")
    screenshot(page, "slip-transported")
    page.context.close()

    page = party_page(browser, live, UTILISER, errors)
    open_from_to_sign_box(page, number)
    sign_section(page, "reception", received_t="30.1", refused_t="5", refusal_reason="含水率超标，退回5吨")
    sign_section(page, "operation", product="烧结砖")
    screenshot(page, "slip-closed")
    page.goto(f"/transfers/{slip_id}/print")
    expect(page.locator("svg.segno")).to_be_visible()
    screenshot(page, "slip-print")
    page.context.close()

    slip = db.session.get(TransferSlip, slip_id)
    assert (slip.status, slip.acceptance, slip.accepted_kg) == (SlipStatus.CLOSED, Acceptance.PARTIAL, 25_100)
    returned = db.session.scalar(select(LedgerEntry).where(LedgerEntry.enterprise_id == plant_id,
                                                           LedgerEntry.reference == f"{number}-R"))
    assert (returned.kind, returned.quantity_kg) == (EntryKind.RETURNED, 5_000)
    db.session.remove()

    page = party_page(browser, live, PRODUCER, errors)
    page.goto(f"/enterprises/{plant_id}/ledger")
    expect(page.locator(f"a[href='/ledger/entries/{returned.id}']")).to_be_visible()
    screenshot(page, "producer-ledger-returned")
    page.goto(f"/transfers/{slip_id}")
    expect(page.locator(f"a[href='/ledger/entries/{returned.id}']")).to_be_visible()
    page.context.close()
    assert errors == []
