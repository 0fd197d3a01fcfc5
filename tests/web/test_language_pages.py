"""Chinese first, English on request; a signed-in user's choice is remembered."""
import re

import pytest

from tests.factories import login
from wasteex import paths
from wasteex.accounts.models import User
from wasteex.extensions import db

ZH_CATALOG = paths.TRANSLATIONS_DIR / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
needs_zh_catalog = pytest.mark.skipif(
    not ZH_CATALOG.exists(), reason="compiled Chinese catalog missing: run `make catalogs`")
ENGLISH_TITLE = "Ordos industrial solid-waste exchange and full-lifecycle ledger"
CJK = re.compile(r"[\u4e00-\u9fff]")


def lang_of(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def h1_of(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)


def test_chinese_by_default_english_after_the_switch(client):
    assert lang_of(client.get("/").get_data(as_text=True)) == "zh-CN"
    response = client.post("/account/language", data={"lang": "en", "next": "/enterprises/"})
    assert response.status_code == 302 and response.headers["Location"] == "/enterprises/"
    assert lang_of(client.get("/").get_data(as_text=True)) == "en"
    client.post("/account/language", data={"lang": "zh_Hans_CN"})
    assert lang_of(client.get("/").get_data(as_text=True)) == "zh-CN"


def test_unknown_language_falls_back_to_chinese(client):
    client.post("/account/language", data={"lang": "fr"})
    assert lang_of(client.get("/").get_data(as_text=True)) == "zh-CN"


@needs_zh_catalog
def test_home_page_text_is_chinese_then_english(client):
    html = client.get("/").get_data(as_text=True)
    assert CJK.search(h1_of(html)) and ENGLISH_TITLE not in html
    client.post("/account/language", data={"lang": "en"})
    html = client.get("/").get_data(as_text=True)
    assert h1_of(html).strip() == ENGLISH_TITLE and not CJK.search(h1_of(html))


def test_a_signed_in_users_choice_is_stored_and_follows_them(app, client, world):
    login(client, world.alice)
    client.post("/account/language", data={"lang": "en"})
    db.session.expire_all()
    assert db.session.get(User, world.alice.id).locale == "en"
    elsewhere = app.test_client()  # another browser, no session language yet
    login(elsewhere, world.alice)
    assert lang_of(elsewhere.get("/").get_data(as_text=True)) == "en"
