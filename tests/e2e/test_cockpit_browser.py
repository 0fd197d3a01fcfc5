"""The demo regulator in Chromium: Ordos's rate against 80 % by base, the map and the trends drawn
offline, a drill-down from a base to an enterprise to its ledger, and the annual release downloaded.

Screenshots: ``test-artifacts/cockpit-*.png``.
"""
from __future__ import annotations

import re
from io import BytesIO

from openpyxl import load_workbook

from tests.e2e.harness import expect, new_page, screenshot, sign_in
from tests.e2e.test_map_browser import _offline
from wasteex.demo.data import DEMO_PASSWORD
from wasteex.demo.seed import seed_demo
from wasteex.extensions import db


def test_regulator_drills_from_a_base_to_a_ledger_and_downloads_the_release(browser, live):
    errors: list[str] = []
    seed_demo()  # two years of ledger for the demo producers (~20 s)
    db.session.commit()
    db.session.remove()

    page = new_page(browser, live, errors)
    outside = _offline(page, live)
    sign_in(page, "regulator@demo.wasteex.cn", DEMO_PASSWORD)
    page.locator("#menu-regulator").click()
    page.locator("nav a[href='/regulator/']").click()
    page.wait_for_url(re.compile(r"/regulator/$"))

    expect(page.locator("#headline-rate")).to_have_text(re.compile(r"\d+\.\d\d %"))
    bases = page.locator("#by-base tbody tr")
    expect(bases).to_have_count(4)
    expect(page.locator("#by-base")).to_contain_text("准格尔旗基地")
    for chart in ("#base-chart", "#trend"):
        expect(page.locator(chart)).to_have_attribute("data-state", "ready")
        expect(page.locator(f"{chart} canvas").first).to_be_visible()
    expect(page.locator("#cockpit-map")).to_have_attribute("data-state", "ready")
    expect(page.locator("#cockpit-map canvas").first).to_be_visible()
    drawn = page.evaluate("""() => {
        const option = echarts.getInstanceByDom(document.getElementById('cockpit-map')).getOption();
        return {types: option.series.map(s => s.type), regions: option.geo[0].map,
                lines: (option.series.find(s => s.type === 'lines') || {data: []}).data.length,
                target: echarts.getInstanceByDom(document.getElementById('base-chart')).getOption()
                        .series[0].markLine.data[0].yAxis};
    }""")
    assert drawn["regions"] == "ordos" and drawn["types"][0] == "map" and "scatter" in drawn["types"]
    assert drawn["lines"] > 0 and drawn["target"] == 80
    screenshot(page, "cockpit-main")

    page.locator("#by-base tbody tr[data-key=jungar] a").click()
    page.wait_for_url(re.compile(r"/regulator/base/jungar"))
    expect(page.locator("h1")).to_contain_text("准格尔旗基地")
    expect(page.locator("#by-division")).to_contain_text("准格尔旗")
    screenshot(page, "cockpit-base")
    page.locator("#enterprises tbody a").first.click()
    page.wait_for_url(re.compile(r"/regulator/enterprises/\d+"))
    expect(page.locator("#trend")).to_have_attribute("data-state", "ready")
    expect(page.locator("[data-table=streams] tbody tr").first).to_be_visible()
    screenshot(page, "cockpit-enterprise")
    page.locator("#ledger-link").click()
    page.wait_for_url(re.compile(r"/enterprises/\d+/ledger"))
    expect(page.locator("main table tbody tr").first).to_be_visible()

    page.goto("/regulator/report")
    expect(page.locator("#release-summary")).to_contain_text("%")
    screenshot(page, "cockpit-report")
    with page.expect_download() as download:
        page.locator("#report-xlsx").click()
    book = load_workbook(BytesIO(open(download.value.path(), "rb").read()))
    assert len(book.sheetnames) == 4

    assert errors == []
    assert outside == []
