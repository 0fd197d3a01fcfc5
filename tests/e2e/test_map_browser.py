"""The market map in Chromium: drawn offline from vendored files, points open their listings,
tooltips show user text as text, and the same module draws the regulator's choropleth.

Screenshots: ``test-artifacts/map-market.png`` and ``test-artifacts/map-choropleth.png``.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

from tests.e2e.harness import expect, new_page, screenshot, sign_in
from tests.factories import PASSWORD, make_enterprise, make_site, make_stream, make_user
from tests.services.test_market_service import new_demand, new_offer, place
from wasteex.extensions import db

OFFER_TITLE = "<b>准格尔</b>粉煤灰"  # must show as text, never as markup


def _market():
    alice = make_user("alice@map.cn", name="Alice")
    a = make_enterprise(alice, name="甲电厂")
    site_a = make_site(a)
    place(site_a, "39.865", "111.216")  # Xuejiawan, Jungar
    w = SimpleNamespace(alice=alice, stream=make_stream(a, site_a, "SW02", name="1号机组粉煤灰"))
    bob = make_user("bob@map.cn", name="Bob")
    b = make_enterprise(bob, name="乙砖厂", utiliser=True, producer=False, division="150624")
    site_b = make_site(b, division="150624")
    place(site_b, "39.35", "106.98")  # Qipanjing, Otog
    carol = make_user("carol@map.cn", name="Carol")
    c = make_enterprise(carol, name="丙水泥厂", utiliser=True, producer=False, division="150626")
    site_c = make_site(c, code="C01", division="150626")
    place(site_c, "38.61", "108.82")  # Galutu, Uxin
    offer = new_offer(w, title=OFFER_TITLE, tonnes="1200.5")
    new_offer(w, title="甲厂大宗粉煤灰", tonnes="20000")
    new_offer(w, publish=False, title="甲厂草稿")
    demand = new_demand(bob, site_b, title="乙厂收灰")
    new_demand(carol, site_c, title="丙厂收渣", supply="one_off", tonnes="800", tonnes_per_month=None,
               window_start=None, window_end=None)
    return SimpleNamespace(offer_id=offer.id, demand_id=demand.id)


def _offline(page, live) -> list[str]:
    """Abort and record every request that leaves the live server (no CDN, no tiles)."""
    outside: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(live.url) or url.startswith("data:"):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    return outside


def _ready(page):
    expect(page.locator("#market-map")).to_have_attribute("data-state", "ready")
    expect(page.locator("#market-map canvas").first).to_be_visible()


def _pixel(page, lon: float, lat: float) -> tuple[float, float]:
    """Where a longitude/latitude lands on the page (ECharts' own projection)."""
    x, y = page.evaluate("""([lon, lat]) => {
        const chart = echarts.getInstanceByDom(document.getElementById('market-map'));
        return chart.convertToPixel({geoIndex: 0}, [lon, lat]);
    }""", [lon, lat])
    box = page.locator("#market-map").bounding_box()
    return box["x"] + x, box["y"] + y


def test_market_map_draws_banners_and_points_offline(browser, live):
    errors: list[str] = []
    ids = _market()
    db.session.remove()  # release the test thread's connection before the server reads

    page = new_page(browser, live, errors)
    outside = _offline(page, live)
    sign_in(page, "bob@map.cn", PASSWORD)
    page.goto("/market/offers")
    page.locator("main nav a[href^='/market/map']").click()
    page.wait_for_url(re.compile(r"/market/map"))
    _ready(page)
    expect(page.locator("[data-map-status]")).to_have_text(re.compile(r"2\D+2"))  # two offers, two demands

    drawn = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('market-map'));
        const option = chart.getOption();
        return {regions: option.geo[0].map,
                series: option.series.map(s => [s.type, s.data.length]),
                titles: option.series.flatMap(s => s.data.map(d => d.point.title))};
    }""")
    assert drawn["regions"] == "ordos"
    assert drawn["series"] == [["scatter", 2], ["scatter", 2]]
    assert "甲厂草稿" not in drawn["titles"] and OFFER_TITLE in drawn["titles"]
    names = page.evaluate("() => echarts.getMap('ordos').geoJSON.features.map(f => f.properties.name)")
    assert sorted(names) == ["150602", "150603", "150621", "150622", "150623", "150624", "150625",
                             "150626", "150627"]
    screenshot(page, "map-market")

    # Hover the offer at Xuejiawan: the tooltip shows the title as text, with enterprise, code, tonnes, price.
    page.mouse.move(*_pixel(page, 111.216, 39.865))
    tip = page.locator(".wx-map-tip").last
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(OFFER_TITLE)
    for text in ("甲电厂", "SW02", "1200.500", "35"):
        expect(tip).to_contain_text(text)
    expect(page.locator(".wx-map-tip b")).to_have_count(0)
    screenshot(page, "map-market-tooltip")

    page.mouse.click(*_pixel(page, 111.216, 39.865))
    page.wait_for_url(re.compile(rf"/market/offers/{ids.offer_id}$"))

    # Filters reach the data: only Otog's demand.
    page.goto("/market/map?kind=demand&base=otog")
    _ready(page)
    titles = page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('market-map'))
        .getOption().series.flatMap(s => s.data.map(d => d.point.title))""")
    assert titles == ["乙厂收灰"]
    page.mouse.click(*_pixel(page, 106.98, 39.35))
    page.wait_for_url(re.compile(rf"/market/demands/{ids.demand_id}$"))

    assert errors == []
    assert outside == []


def test_the_same_module_draws_a_choropleth(browser, live):
    """What the regulator cockpit will do: banner → utilisation rate, with points and a flow."""
    errors: list[str] = []
    make_user("viewer@map.cn")
    db.session.remove()

    page = new_page(browser, live, errors)
    outside = _offline(page, live)
    sign_in(page, "viewer@map.cn", PASSWORD)
    page.goto("/market/map")
    _ready(page)
    summary = page.evaluate("""async () => {
        const m = await import('/static/js/ordos-map.js');
        const features = await m.loadOrdosFeatures('/static/vendor/ordos/ordos.geojson');
        const el = document.getElementById('market-map');
        const values = {150602: 91.2, 150603: 88.0, 150621: 76.5, 150622: 83.1, 150623: 52.4,
                        150624: 64.9, 150625: 47.3, 150626: 71.8, 150627: 79.0};
        const names = {150602: '东胜区', 150603: '康巴什区', 150621: '达拉特旗', 150622: '准格尔旗',
                       150623: '鄂托克前旗', 150624: '鄂托克旗', 150625: '杭锦旗', 150626: '乌审旗',
                       150627: '伊金霍洛旗'};
        const chart = m.drawOrdosMap(el, {features, values, names, range: [0, 100],
            labels: {value: '综合利用率 %', offer: '供应', demand: '需求', flow: '流向'},
            points: [{kind: 'offer', lon: 111.216, lat: 39.865, t: 500, title: '电厂', url: '/'}],
            flows: [{from: [111.216, 39.865], to: [106.98, 39.35], value: 300, label: '准格尔 → 鄂托克'}]});
        const option = chart.getOption();
        return {types: option.series.map(s => s.type), visual: option.visualMap.length,
                min: option.visualMap[0].min, max: option.visualMap[0].max};
    }""")
    assert summary == {"types": ["map", "lines", "scatter", "scatter"], "visual": 1, "min": 0, "max": 100}
    page.locator("[data-map-status]").evaluate("el => el.remove()")
    screenshot(page, "map-choropleth")
    assert errors == []
    assert outside == []
