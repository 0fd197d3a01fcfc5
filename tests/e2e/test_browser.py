"""Browser journeys through Debian's Chromium (Playwright), against a live server with CSRF on.

Screenshots land in ``test-artifacts/`` (gitignored) for a human to look at.
"""
from __future__ import annotations

import re

from babel.support import Translations
from sqlalchemy import select

from tests.e2e.harness import expect, new_page, screenshot, sign_in, submit
from tests.factories import PASSWORD, make_user
from wasteex import paths
from wasteex.accounts.models import PlatformRole
from wasteex.enterprises.models import Enterprise, EnterpriseStatus
from wasteex.enterprises.uscc import make_uscc
from wasteex.extensions import db

ZH = Translations.load(str(paths.TRANSLATIONS_DIR), ["zh_Hans_CN"])  # NullTranslations without a catalog
ENGLISH_TITLE = "Ordos industrial solid-waste exchange and full-lifecycle ledger"
CJK = re.compile(r"[\u4e00-\u9fff]")
NEW_PASSWORD = "amber-lantern-quietly-folds"


def test_signup_register_enterprise_and_get_verified(browser, live):
    errors: list[str] = []
    admin = make_user("platform-admin@e2e.cn", PlatformRole.ADMIN, name="平台管理员")
    admin_id, admin_email = admin.id, admin.email
    db.session.remove()  # release the test thread's connection before the server writes
    credit_code = make_uscc("9", "1", "150622", "E2E00001")

    page = new_page(browser, live, errors)
    page.goto("/account/register")
    page.fill("#name", "王测试")
    page.fill("#email", "wang@e2e.cn")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    submit(page)
    page.wait_for_url(re.compile(r"/enterprises/new$"))

    page.locator("form[action='/account/logout'] button").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("form[action='/account/logout']")).to_have_count(0)
    sign_in(page, "wang@e2e.cn", NEW_PASSWORD)

    page.goto("/enterprises/new")
    page.fill("#name", "准格尔旗浏览器测试电厂")
    page.fill("#credit_code", credit_code)
    page.check("#is_producer")
    page.fill("#industry", "火力发电")
    page.select_option("#division_code", "150622")
    page.fill("#address", "准格尔旗薛家湾镇")
    page.fill("#contact_name", "王工")
    page.fill("#contact_phone", "13800000001")
    submit(page)
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    detail = page.url
    status = page.locator("h1 + div .badge").first
    expect(status).to_have_text(ZH.gettext("Pending verification"))
    screenshot(page, "enterprise-pending-zh")

    admin_page = new_page(browser, live, errors)
    sign_in(admin_page, admin_email, PASSWORD)
    admin_page.goto("/enterprises/?status=pending")
    admin_page.get_by_role("link", name="准格尔旗浏览器测试电厂").click()
    admin_page.locator("#verify-btn").click()
    expect(admin_page.locator(".alert-success")).to_be_visible()
    admin_page.context.close()

    page.goto(detail)
    expect(status).to_have_text(ZH.gettext("Verified"))
    expect(status).to_have_class(re.compile(r"text-bg-success"))
    page.locator("form[action='/account/language'] button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(status).to_have_text("Verified")
    screenshot(page, "enterprise-verified-en")

    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))
    assert enterprise.status is EnterpriseStatus.VERIFIED and enterprise.reviewed_by_id == admin_id
    assert not errors, errors
    page.context.close()


def test_home_page_is_chinese_by_default_and_english_after_the_switch(browser, live):
    errors: list[str] = []
    page = new_page(browser, live, errors)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    if (paths.TRANSLATIONS_DIR / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo").exists():
        assert CJK.search(page.locator("h1").inner_text())
    screenshot(page, "home-zh")
    page.locator("form[action='/account/language'] button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(ENGLISH_TITLE)
    screenshot(page, "home-en")
    # The choice sticks for the rest of the session.
    page.goto("/account/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert not errors, errors
    page.context.close()
