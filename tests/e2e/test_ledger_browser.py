"""A producer keeps its ledger in the browser: the kind decides the fields, errors stay on the page."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.e2e.harness import expect, new_page, screenshot, sign_in
from tests.factories import PASSWORD, make_enterprise, make_facility, make_site, make_stream, make_user
from wasteex.enterprises.models import FacilityKind
from wasteex.extensions import db
from wasteex.ledger.models import EntryKind, LedgerEntry


def test_record_entries_through_the_form(browser, live):
    errors: list[str] = []
    user = make_user("clerk@e2e.cn", name="台账员")
    plant = make_enterprise(user, name="浏览器测试电厂")
    site = make_site(plant)
    make_facility(site, "CS-01", FacilityKind.GENERATION)
    stream = make_stream(plant, site, "SW02", "粉煤灰")
    receiver = make_enterprise(make_user(), name="浏览器测试砖厂", producer=False, utiliser=True)
    plant_id, stream_id, receiver_name, receiver_code = plant.id, stream.id, receiver.name, receiver.credit_code
    db.session.remove()  # release the test thread's connection before the server writes

    page = new_page(browser, live, errors)
    sign_in(page, "clerk@e2e.cn", PASSWORD)
    page.goto(f"/enterprises/{plant_id}/ledger")
    page.locator("button[data-bs-target='#record-entry']").click()
    form = page.locator("#record-entry form")

    page.select_option("#kind", EntryKind.GENERATION.value)
    expect(page.locator("#facility_code")).to_be_visible()
    expect(page.locator("#plate_number")).to_be_hidden()  # no shipment fields for generation
    page.select_option("#stream_id", str(stream_id))
    page.fill("#period_date", date.today().replace(day=1).isoformat())
    page.fill("#tonnes", "-5")
    page.fill("#handler", "张三")
    page.select_option("#facility_code", "CS-01")
    form.locator("button[type=submit]").click()
    expect(page.locator("#tonnes + .invalid-feedback, #tonnes ~ .invalid-feedback").first).to_be_visible()

    page.fill("#tonnes", "120.5")  # the refused form comes back open, with the values kept
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()

    page.locator("button[data-bs-target='#record-entry']").click()
    page.select_option("#kind", EntryKind.ENTRUSTED_UTILISATION.value)
    expect(page.locator("#plate_number")).to_be_visible()
    expect(page.locator("#facility_code")).to_be_hidden()
    page.select_option("#stream_id", str(stream_id))
    page.fill("#period_date", date.today().replace(day=1).isoformat())
    page.fill("#tonnes", "80")
    page.fill("#handler", "李四")
    page.select_option("#route_key", "cement_admixture")
    page.fill("#counterparty_name", receiver_name)
    page.fill("#counterparty_credit_code", receiver_code)
    page.fill("#carrier_name", "通达物流")
    page.fill("#plate_number", "蒙K12345D")
    page.fill("#contract_number", "HT-E2E-1")
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    screenshot(page, "ledger-zh")

    page.goto(f"/enterprises/{plant_id}/ledger/summary?year={date.today().year}")
    expect(page.locator("main")).to_contain_text("66.39")  # 80 ÷ 120.5
    # The refused form answers 422 on purpose (Chromium logs that); nothing else may complain.
    assert [e for e in errors if "422" not in e] == []
    rows = db.session.execute(select(LedgerEntry.kind, LedgerEntry.quantity_kg, LedgerEntry.plate_number)
                              .order_by(LedgerEntry.seq)).all()
    assert rows == [(EntryKind.GENERATION, 120_500, None), (EntryKind.ENTRUSTED_UTILISATION, 80_000, "蒙K12345D")]
