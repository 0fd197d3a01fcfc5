"""The exchange in the browser: a regulator runs the matcher, producer and utiliser accept from their own
accounts, and the agreement appears for both."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.e2e.harness import expect, new_page, screenshot, sign_in
from tests.factories import PASSWORD
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from wasteex.agreements.models import Agreement
from wasteex.extensions import db


def accept_first_proposal(browser, live, email: str, errors: list[str]) -> None:
    page = new_page(browser, live, errors)
    sign_in(page, email, PASSWORD)
    page.locator("#menu-trade").click()
    page.get_by_role("link", name="撮合建议").first.click()
    page.locator("main table a[href^='/proposals/']").first.click()
    expect(page.get_by_role("heading", name="为什么是这个建议")).to_be_visible()
    page.get_by_role("button", name="接受").click()
    expect(page.locator(".alert-success")).to_be_visible()
    screenshot(page, f"proposal-accepted-{email.split('@')[0]}")
    page.context.close()


def test_run_accept_and_agree_in_the_browser(browser, live, traded):
    w = traded
    emails = (w.regulator.email, w.alice.email, w.carol.email)
    db.session.remove()  # release the test thread's connection before the server writes
    errors: list[str] = []

    page = new_page(browser, live, errors)
    sign_in(page, emails[0], PASSWORD)
    page.locator("#menu-trade").click()
    page.get_by_role("link", name="撮合运行").click()
    page.get_by_role("button", name="发起全市撮合").click()
    page.wait_for_url(re.compile(r"/matching/runs/\d+$"))
    expect(page.get_by_text("已证明最优")).to_be_visible()
    expect(page.locator("main table tbody tr")).to_have_count(1)
    screenshot(page, "matcher-run")
    page.context.close()

    accept_first_proposal(browser, live, emails[1], errors)
    accept_first_proposal(browser, live, emails[2], errors)

    agreement = db.session.scalar(select(Agreement))
    assert agreement is not None and agreement.kg == 800_000
    page = new_page(browser, live, errors)
    sign_in(page, emails[1], PASSWORD)
    page.goto("/agreements")
    expect(page.get_by_text(agreement.contract_no)).to_be_visible()
    assert errors == []
