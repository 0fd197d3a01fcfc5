"""Fixtures of the browser tests: Debian's Chromium and the app served live with CSRF on.

Without Chromium every browser test is skipped with a notice saying how to install it. When a
browser test fails, every page it left open is saved as ``test-artifacts/FAILED-<test>-<n>.png``.
"""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tests.e2e.harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from wasteex import create_app
from wasteex.extensions import db


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    browser = item.funcargs.get("browser") if report.when == "call" and report.failed else None
    if browser is None:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    pages = [page for context in browser.contexts for page in context.pages]
    for number, page in enumerate(pages, start=1):
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{item.name}-{number}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium not installed: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live(database_url, tmp_path):
    """The app served by werkzeug in a thread, on a free port, with CSRF protection on."""
    app = create_app({"DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True})
    app.instance_path = str(tmp_path)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():  # for factories and database checks in the test thread
        yield SimpleNamespace(app=app, url=f"http://127.0.0.1:{server.server_port}")
        server.shutdown()
        thread.join(timeout=10)
        db.session.remove()
        db.engine.dispose()
