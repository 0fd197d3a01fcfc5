"""The market map: its page, its JSON (only what the user may see), filters, sign-in."""
from __future__ import annotations

import re

import pytest

from tests.factories import login, make_enterprise, make_site, make_stream, make_user
from tests.services.test_market_service import market, new_demand, new_offer, place  # noqa: F401
from wasteex.enterprises.models import EnterpriseStatus
from wasteex.extensions import db
from wasteex.market import service


def points(client, query: str = "") -> list[dict]:
    answer = client.get(f"/market/map.json{query}")
    assert answer.status_code == 200 and answer.is_json
    return answer.get_json()["points"]


def titles(client, query: str = "") -> set[str]:
    return {p["title"] for p in points(client, query)}


@pytest.fixture
def listings(market):
    """Open and closed-off listings of A (producer, Jungar), B (utiliser, Otog) and C (utiliser, Jungar)."""
    w = market
    w.offer = new_offer(w, title="准格尔粉煤灰")
    w.draft = new_offer(w, publish=False, title="甲厂草稿")
    w.paused = new_offer(w, title="甲厂暂停")
    service.change_status(w.alice, w.paused, "pause")
    w.demand_b = new_demand(w.bob, w.site_b, title="乙厂收灰", accepts=["SW02", "SW03"])
    w.draft_c = new_demand(w.carol, w.site_c, publish=False, title="丙厂草稿")
    db.session.commit()
    return w


def test_page_renders_without_inline_script_or_style(client, listings):
    login(client, listings.bob)
    answer = client.get("/market/map?sw=SW02&base=otog")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'data-ordos-map="market"' in html
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/js/ordos-map.js" in html
    assert 'data-geojson="/static/vendor/ordos/ordos.geojson"' in html
    assert re.search(r'data-points="/market/map\.json\?[^"]*sw=SW02', html)
    assert "/static/css/map.css" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # CSP: script-src 'self'
    assert " style=" not in html and "<style" not in html
    assert re.search(r'<option value="otog"\s+selected', html)
    labels = re.search(r"data-labels='([^']*)'", html)
    assert labels and "{offer}" in labels.group(1)


def test_vendored_assets_are_served(client, listings):
    login(client, listings.bob)
    for path in ("/static/vendor/echarts/echarts.min.js", "/static/vendor/ordos/ordos.geojson",
                 "/static/js/ordos-map.js", "/static/css/map.css"):
        assert client.get(path).status_code == 200, path
    geojson = client.get("/static/vendor/ordos/ordos.geojson").get_json()
    assert sorted(f["id"] for f in geojson["features"]) == [
        "150602", "150603", "150621", "150622", "150623", "150624", "150625", "150626", "150627"]


def test_json_lists_only_what_the_user_may_see(client, listings):
    w = listings
    login(client, w.bob)
    found = points(client)
    assert {p["title"] for p in found} == {"准格尔粉煤灰", "乙厂收灰"}  # no draft, paused or competitor's draft
    offer = next(p for p in found if p["kind"] == "offer")
    assert offer == {
        "kind": "offer", "id": w.offer.id, "title": "准格尔粉煤灰", "enterprise": "甲电厂", "sw": "SW02",
        "tonnes": "1200.500", "t": 1200.5, "price": offer["price"], "banner": "150622",
        "lon": 111.216, "lat": 39.865, "url": f"/market/offers/{w.offer.id}",
    }
    assert "35" in offer["price"]
    demand = next(p for p in found if p["kind"] == "demand")
    assert demand["sw"] == "SW02 SW03" and demand["url"] == f"/market/demands/{w.demand_b.id}"
    assert demand["banner"] == "150624" and demand["tonnes"] == "3000.000"
    for p in found:  # every point opens for this user
        assert client.get(p["url"]).status_code == 200


def test_own_drafts_stay_off_the_map_and_competitors_never_see_them(client, listings):
    w = listings
    login(client, w.alice)
    assert titles(client) == {"准格尔粉煤灰", "乙厂收灰"}  # the map shows open listings only
    client.post("/account/logout")
    login(client, w.regulator)
    assert titles(client) == {"准格尔粉煤灰", "乙厂收灰"}
    assert "甲厂草稿" not in client.get("/market/map.json?status=all").get_data(as_text=True)


def test_listings_of_an_unverified_enterprise_are_hidden(client, listings):
    w = listings
    dave = make_user("dave@d.cn", name="Dave")
    d = make_enterprise(dave, name="丁煤化工", division="150626")
    site = make_site(d, code="D01")
    place(site, "39.1", "109.1")
    stream = make_stream(d, site, "SW03", name="气化渣")
    offer = service.create_offer(dave, {"stream_id": stream.id, "title": "丁厂气化渣", "supply": "one_off",
                                        "tonnes": "50", "price_per_t": "0", "transport_by": "either"})
    service.change_status(dave, offer, "publish")
    d.status = EnterpriseStatus.REJECTED
    db.session.commit()
    login(client, w.bob)
    assert "丁厂气化渣" not in titles(client)
    client.post("/account/logout")
    login(client, dave)
    assert "丁厂气化渣" in titles(client)  # its own members still see it


def test_filters(client, listings):
    w = listings
    login(client, w.carol)
    assert titles(client, "?kind=offer") == {"准格尔粉煤灰"}
    assert titles(client, "?kind=demand") == {"乙厂收灰"}
    assert titles(client, "?sw=SW03") == {"乙厂收灰"}  # B accepts SW03; A offers SW02
    assert titles(client, "?sw=sw02") == {"准格尔粉煤灰", "乙厂收灰"}
    assert titles(client, "?sw=SW06") == set()
    assert titles(client, "?base=otog") == {"乙厂收灰"}
    assert titles(client, "?base=jungar&kind=offer") == {"准格尔粉煤灰"}
    assert titles(client, "?division=150624") == {"乙厂收灰"}
    assert titles(client, "?min_tonnes=2000") == {"乙厂收灰"}
    answer = client.get("/market/map.json?kind=evil&sw=%27%3B--&base=nowhere&min_tonnes=NaN&near=abc")
    assert answer.status_code == 200  # read leniently, like the list view
    page = client.get("/market/map?_scheme=x&_external=1&sw=SW02&sw=%22%3E%3Cscript%3E")
    assert page.status_code == 200 and "<script>" not in page.get_data(as_text=True)


def test_payload_counts_and_banner_names(client, listings):
    login(client, listings.bob)
    data = client.get("/market/map.json").get_json()
    assert data["counts"] == {"offer": 1, "demand": 1} and data["truncated"] is False
    assert data["banners"]["150622"] == "准格尔旗" and len(data["banners"]) == 9


def test_anonymous_is_sent_to_sign_in(client, listings):
    for path in ("/market/map", "/market/map.json"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/account/login" in answer.headers["Location"], path


def test_list_view_links_to_the_map(client, listings):
    login(client, listings.bob)
    html = client.get("/market/offers?sw=SW02").get_data(as_text=True)
    assert re.search(r'href="/market/map\?sw=SW02"', html)
