"""The remaining main journeys in Chromium, on the demo data: the producer offers one of its streams
and publishes the offer; the utiliser posts and publishes a demand; the producer downloads the
ledger import template, fills one line and imports it. Screenshots: ``test-artifacts/journey-*.png``.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from tests.e2e.demo_pages import PRODUCER, UTILISER
from tests.e2e.harness import expect, new_page, screenshot, sign_in
from wasteex.accounts.models import User
from wasteex.demo.data import DEMO_PASSWORD
from wasteex.demo.seed import seed_demo
from wasteex.extensions import db
from wasteex.ledger.importer import COLUMNS, DATA_SHEET
from wasteex.ledger.models import EntrySource, LedgerEntry
from wasteex.market.models import Demand, ListingStatus, Offer
from wasteex.streams.models import WasteStream


def enterprise_of(email: str) -> int:
    return db.session.scalar(select(User).where(User.email == email)).memberships[0].enterprise_id


def test_offer_demand_and_ledger_import(browser, live, tmp_path):
    errors: list[str] = []
    seed_demo()
    db.session.commit()
    producer, utiliser = enterprise_of(PRODUCER), enterprise_of(UTILISER)
    stream = db.session.scalar(select(WasteStream).where(WasteStream.enterprise_id == producer)
                               .order_by(WasteStream.id))
    stream_id = stream.id
    db.session.remove()

    page = new_page(browser, live, errors)
    sign_in(page, PRODUCER, DEMO_PASSWORD)
    page.goto(f"/streams/{stream_id}")
    page.locator(f"a[href$='/streams/{stream_id}/offers/new']").click()
    page.fill("#title", "浏览器测试：粉煤灰一次性供应")
    page.select_option("#supply", "one_off")
    page.fill("#tonnes", "800")
    page.fill("#price_per_t", "-10")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/market/offers/\d+$"))
    page.locator("form[action$='/publish'] button").click()
    expect(page.locator(".alert-success")).to_be_visible()
    screenshot(page, "journey-offer")

    page.goto(f"/enterprises/{producer}/ledger/import")
    with page.expect_download() as download:
        page.locator("a[href$='/ledger/import-template']").click()
    book = load_workbook(BytesIO(open(download.value.path(), "rb").read()))
    sheet = book[DATA_SHEET]
    line = {"reference": "E2E-导入-0001", "period_date": date.today() - timedelta(days=3), "kind": "产生",
            "stream_id": stream_id, "tonnes": 12.5, "facility_code": "CS-01", "handler": "赵工"}
    for index, column in enumerate(COLUMNS, start=1):
        sheet.cell(3, index, line.get(column.key))
    filled = tmp_path / "台账导入.xlsx"
    book.save(filled)
    page.set_input_files("input[type=file]", str(filled))
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("#report")).to_be_visible()
    expect(page.locator("main table tbody tr")).to_have_count(1)
    screenshot(page, "journey-import")
    page.context.close()

    page = new_page(browser, live, errors)
    sign_in(page, UTILISER, DEMO_PASSWORD)
    page.goto(f"/enterprises/{utiliser}/demands/new")
    page.fill("#title", "浏览器测试：收购粉煤灰")
    page.locator("input[name=accepts][value=SW02]").check()
    page.select_option("#route_key", "sintered_brick")
    page.locator("input[name=accepts_class][value=I]").check()
    page.select_option("#supply", "one_off")
    page.fill("#tonnes", "500")
    page.fill("#price_per_t", "5")
    page.fill("#max_km", "120")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/market/demands/\d+$"))
    page.locator("form[action$='/publish'] button").click()
    expect(page.locator(".alert-success")).to_be_visible()
    screenshot(page, "journey-demand")

    assert db.session.scalar(select(Offer.status).where(Offer.title == "浏览器测试：粉煤灰一次性供应")) is ListingStatus.OPEN
    assert db.session.scalar(select(Demand.status).where(Demand.title == "浏览器测试：收购粉煤灰")) is ListingStatus.OPEN
    imported = db.session.scalar(select(LedgerEntry).where(LedgerEntry.reference == "E2E-导入-0001"))
    assert imported.source is EntrySource.IMPORT and imported.quantity_kg == 12_500
    assert errors == []
