"""What the browser tests share: Chromium's location and flags, pages, sign-in, screenshots."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import expect  # noqa: F401  (re-exported for the tests)

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def new_page(browser, live, errors: list[str]):
    context = browser.new_context(base_url=live.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    # CSP violations and script errors show up on the console.
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def submit(page):
    page.locator("main form button[type=submit]").last.click()


def sign_in(page, email: str, password: str):
    page.goto("/account/login")
    page.fill("#email", email)
    page.fill("#password", password)
    submit(page)
    page.wait_for_url(re.compile(r"/$"))


def screenshot(page, name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
