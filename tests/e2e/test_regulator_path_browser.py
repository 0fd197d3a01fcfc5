"""The demo regulator's working path in Chromium, past the cockpit's figures: from a base down to
one transfer slip's lifecycle, the anomaly worklist (handling one), the capacity-gap planner and
a what-if scenario with a hypothetical plant, and the annual release as PDF.

Screenshots: ``test-artifacts/regulator-*.png``.
"""
from __future__ import annotations

import re

from tests.e2e.harness import expect, new_page, screenshot, sign_in
from wasteex.demo.data import DEMO_PASSWORD
from wasteex.demo.seed import seed_demo
from wasteex.extensions import db

PRODUCER = "准格尔旗大路坪电力有限公司"  # the README's producer: the demo's slips are its


def test_regulator_from_base_to_slip_worklist_planner_and_release(browser, live):
    errors: list[str] = []
    seed_demo()
    db.session.commit()
    db.session.remove()
    page = new_page(browser, live, errors)
    sign_in(page, "regulator@demo.wasteex.cn", DEMO_PASSWORD)

    page.goto("/regulator/")
    page.locator("#by-base tbody tr[data-key=jungar] a").click()
    page.wait_for_url(re.compile(r"/regulator/base/jungar"))
    page.locator("#enterprises tbody a", has_text=PRODUCER).first.click()
    page.wait_for_url(re.compile(r"/regulator/enterprises/\d+"))
    page.locator("#lifecycle-link").click()
    page.wait_for_url(re.compile(r"/lifecycle/enterprise/\d+"))
    # The slip whose operation is signed: the whole chain, generation to utilisation.
    page.locator("main li", has_text="利用处置签章").locator("a[href^='/lifecycle/slip/']").first.click()
    page.wait_for_url(re.compile(r"/lifecycle/slip/\d+"))
    expect(page.locator("h1")).to_contain_text("WX-")
    for stage in ("产生单位签章（出厂）", "接收单位签章（接收）", "利用处置签章"):
        expect(page.locator("main")).to_contain_text(stage)
    expect(page.locator(".badge.text-bg-danger")).to_have_count(0)  # every ledger line intact
    screenshot(page, "regulator-slip-lifecycle")

    page.goto("/regulator/anomalies/")
    expect(page.locator("main table tbody tr").first).to_be_visible()
    page.goto("/regulator/anomalies/?kind=slip")  # the demo slip's weight discrepancy
    page.locator("main table tbody tr").first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/regulator/anomalies/\d+"))
    page.select_option("#status", "under_review")
    page.fill("#note", "已通知企业核对磅单")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_be_visible()
    screenshot(page, "regulator-anomaly")

    page.goto("/regulator/planner/")
    page.get_by_role("button", name=re.compile("计算")).first.click()
    page.wait_for_url(re.compile(r"/regulator/planner/runs/\d+"))
    expect(page.locator("[data-attainable]")).to_have_text(re.compile(r"\d+(\.\d+)? ?%"))
    baseline = page.locator("[data-attainable]").inner_text()
    screenshot(page, "regulator-plan")

    page.goto("/regulator/planner/scenarios/new")
    page.fill("#name", "准格尔新建粉煤灰综合利用厂")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/regulator/planner/scenarios/\d+$"))
    page.locator("details summary").first.click()
    page.fill("#lat", "39.87")
    page.fill("#lon", "111.22")
    page.fill("form[action$='/utilisers'] #name", "假设的粉煤灰制砖厂")
    page.locator("input[name=sw_codes][value=SW02]").check()
    page.fill("#tonnes_per_year", "1500000")
    page.fill("#max_km", "150")
    page.get_by_role("button", name="添加").click()
    page.get_by_role("button", name="计算该情景").click()
    page.wait_for_url(re.compile(r"/regulator/planner/runs/\d+"))
    expect(page.locator("[data-attainable]").first).to_have_text(re.compile(r"\d+(\.\d+)? ?%"))
    assert page.locator("[data-attainable]").first.inner_text() != baseline  # the plant changes the attainable rate
    screenshot(page, "regulator-scenario")

    page.goto("/regulator/report")
    with page.expect_download() as download:
        page.locator("#report-pdf").click()
    assert open(download.value.path(), "rb").read(4) == b"%PDF"
    assert errors == []
