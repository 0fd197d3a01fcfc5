"""Exchange pages: browse with filters, offer and demand pages with recommendations, forms, buttons."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import login
from tests.services.test_market_service import market, new_demand, new_offer  # noqa: F401
from tests.web.pages import csrf_token
from tests.web.test_stream_pages import invalid_feedback
from wasteex.enterprises.models import EnterpriseStatus
from wasteex.extensions import db
from wasteex.market.models import Demand, ListingStatus, Offer


def offer_form(**changes) -> dict:
    data = dict(title="粉煤灰 Ⅱ级", supply="one_off", tonnes="1200.5", tonnes_per_month="", window_start="",
                window_end="", price_per_t="-35", max_km="", transport_by="utiliser", description="",
                lab_report_id="")
    return data | changes


def demand_form(site, **changes) -> dict:
    data = dict(site_id=str(site.id), title="收购粉煤灰", accepts=["SW02", "SW03"], accepts_class=["I"],
                route_key="cement_admixture", supply="recurring", tonnes="", tonnes_per_month="500",
                window_start="2025-07", window_end="2025-12", price_per_t="20", max_km="300", description="",
                min_al2o3_pct="40", max_al2o3_pct="")
    return data | changes


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_offer_a_stream_publish_pause_close(client, market):
    w = market
    login(client, w.alice)
    stream_page = client.get(f"/streams/{w.stream.id}").get_data(as_text=True)
    assert f"/streams/{w.stream.id}/offers/new" in stream_page
    form = client.get(f"/streams/{w.stream.id}/offers/new").get_data(as_text=True)
    assert 'value="1号机组粉煤灰"' in form and "45.2" in form  # title from the stream, its latest values shown
    answer = client.post(f"/streams/{w.stream.id}/offers/new", data=offer_form(
        q_loi_pct="3.5", q_loi_pct_on="2025-06-01"))
    assert answer.status_code == 302
    offer = db.session.scalar(select(Offer))
    assert offer.total_kg == 1_200_500 and offer.quality_by_key()["loi_pct"].declared
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "粉煤灰 Ⅱ级" in page and "1200.500" in page and "3.5" in page and "/publish" in page
    for action, status in (("publish", ListingStatus.OPEN), ("pause", ListingStatus.PAUSED),
                           ("publish", ListingStatus.OPEN), ("close", ListingStatus.CLOSED)):
        assert client.post(f"/market/offers/{offer.id}/{action}").status_code == 302
        db.session.refresh(offer)
        assert offer.status is status
    closed = client.get(f"/market/offers/{offer.id}").get_data(as_text=True)
    assert "/publish" not in closed and f"/market/offers/{offer.id}/edit" not in closed
    assert client.post(f"/market/offers/{offer.id}/pause").status_code == 409
    assert client.get(f"/market/offers/{offer.id}/edit").status_code == 409


@pytest.mark.parametrize("change, field", [
    ({"tonnes": "0"}, "tonnes"),
    ({"tonnes": "1.2345"}, "tonnes"),
    ({"supply": "recurring", "tonnes_per_month": "10", "window_start": "2025-08", "window_end": "2025-07"},
     "window_end"),
    ({"price_per_t": "1.234"}, "price_per_t"),
    ({"max_km": "0"}, "max_km"),
    ({"q_al2o3_pct": "46", "q_al2o3_pct_on": "2024-01-01"}, "q_al2o3_pct_on"),  # older than the stream's
    ({"q_moisture_pct": "150", "q_moisture_pct_on": "2025-06-01"}, "q_moisture_pct"),
])
def test_refused_offer_shows_the_error_next_to_the_field(client, market, change, field):
    w = market
    login(client, w.alice)
    answer = client.post(f"/streams/{w.stream.id}/offers/new", data=offer_form(**change))
    assert answer.status_code == 422
    assert invalid_feedback(answer.get_data(as_text=True), field)
    assert count(Offer) == 0


def test_edit_offer(client, market):
    w = market
    offer = new_offer(w, quality={"loi_pct": {"value": "3.5", "measured_on": "2025-06-01"}})
    login(client, w.alice)
    form = client.get(f"/market/offers/{offer.id}/edit").get_data(as_text=True)
    assert 'value="1200.500"' in form and 'value="3.5"' in form and 'value="2025-06-01"' in form
    data = offer_form(title="改名", supply="recurring", tonnes="", tonnes_per_month="100", window_start="2025-07",
                      window_end="2025-09", q_loi_pct="3.5", q_loi_pct_on="2025-06-01")
    assert client.post(f"/market/offers/{offer.id}/edit", data=data).status_code == 302
    db.session.refresh(offer)
    assert offer.title == "改名" and offer.total_kg == offer.remaining_kg == 300_000
    again = client.get(f"/market/offers/{offer.id}/edit").get_data(as_text=True)
    assert 'value="2025-07"' in again and 'value="2025-09"' in again


def test_new_demand_form(client, market):
    w = market
    login(client, w.bob)
    form = client.get(f"/enterprises/{w.b.id}/demands/new").get_data(as_text=True)
    assert 'name="accepts"' in form and 'type="checkbox"' in form and 'name="min_al2o3_pct"' in form
    assert "landfill_class_ii" not in form  # only utilisation routes are offered
    answer = client.post(f"/enterprises/{w.b.id}/demands/new", data=demand_form(w.site_b))
    assert answer.status_code == 302
    demand = db.session.scalar(select(Demand))
    assert demand.accepts == ["SW02", "SW03"] and demand.accepts_class == ["I"] and demand.total_kg == 3_000_000
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "收购粉煤灰" in page and "SW03" in page and "40" in page
    edit = client.get(f"/market/demands/{demand.id}/edit").get_data(as_text=True)
    assert 'value="40"' in edit and re.search(r'value="SW03"[^>]*checked|checked[^>]*value="SW03"', edit)
    assert client.post(f"/market/demands/{demand.id}/edit",
                       data=demand_form(w.site_b, max_km="150", max_al2o3_pct="55")).status_code == 302
    db.session.refresh(demand)
    assert demand.max_km == 150 and demand.limit_by_key()["al2o3_pct"].max_value == 55


@pytest.mark.parametrize("change, field", [
    ({"accepts": []}, "accepts"),
    ({"min_al2o3_pct": "50", "max_al2o3_pct": "40"}, "max_al2o3_pct"),
    ({"min_al2o3_pct": "-3"}, "min_al2o3_pct"),
    ({"max_km": "0"}, "max_km"),
    ({"route_key": "gypsum_board"}, "route_key"),
    ({"tonnes_per_month": "-1"}, "tonnes_per_month"),
])
def test_refused_demand_shows_the_error(client, market, change, field):
    w = market
    login(client, w.bob)
    answer = client.post(f"/enterprises/{w.b.id}/demands/new", data=demand_form(w.site_b, **change))
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    if field == "accepts":
        assert re.search(r'id="accepts".*?invalid-feedback d-block">[^<]+<', html, re.S)
    else:
        assert invalid_feedback(html, field), field
    assert count(Demand) == 0


def test_browse_filters_and_distance(client, market):
    w = market
    offer = new_offer(w, title="准格尔粉煤灰")
    draft = new_offer(w, publish=False, title="草稿供应")
    login(client, w.carol)
    html = client.get("/market/offers").get_data(as_text=True)
    assert "准格尔粉煤灰" in html and "草稿供应" not in html and "甲电厂" in html
    assert "准格尔粉煤灰" not in client.get("/market/offers?sw=SW06").get_data(as_text=True)
    assert "准格尔粉煤灰" in client.get("/market/offers?quality=al2o3_pct&quality_min=45").get_data(as_text=True)
    assert "准格尔粉煤灰" not in client.get("/market/offers?al2o3_pct_min=46").get_data(as_text=True)
    near = client.get(f"/market/offers?near={w.site_c.id}&km=50").get_data(as_text=True)
    assert "准格尔粉煤灰" in near and re.search(r"1\d\.\d km", near)
    assert "准格尔粉煤灰" not in client.get(f"/market/offers?near={w.site_c.id}&km=5").get_data(as_text=True)
    bad = client.get("/market/offers?near=abc&km=-1&sort=evil&page=x&min_tonnes=NaN")
    assert bad.status_code == 200  # the page reads its query string leniently
    assert client.get(f"/market/offers/{draft.id}").status_code == 404
    assert client.get(f"/market/offers/{offer.id}").status_code == 200


def test_offer_page_recommends_demands(client, market):
    w = market
    offer = new_offer(w)
    fit = new_demand(w.carol, w.site_c, title="丙厂收灰")
    wet = new_demand(w.carol, w.site_c, title="丙厂低水分", limits={"moisture_pct": {"max": "5"}})
    login(client, w.alice)
    html = client.get(f"/market/offers/{offer.id}").get_data(as_text=True)
    recommended = html[html.index('id="recommended"'):]
    assert recommended.index("丙厂收灰") < recommended.index("丙厂低水分")
    assert "≤ 5" in recommended
    page = client.get(f"/market/demands/{fit.id}").get_data(as_text=True)
    assert "粉煤灰 Ⅱ级" in page[page.index('id="recommended"'):]
    assert client.get(f"/market/demands/{wet.id}").status_code == 200


def test_my_listings_and_other_enterprises(client, market):
    w = market
    draft = new_offer(w, publish=False, title="草稿供应")
    login(client, w.alice)
    assert client.get("/market/mine").headers["Location"].endswith(f"/enterprises/{w.a.id}/listings")
    html = client.get(f"/enterprises/{w.a.id}/listings").get_data(as_text=True)
    assert "草稿供应" in html and f"/streams/{w.stream.id}/offers/new" in html
    assert "/demands/new" not in html  # A is no utiliser
    client.post("/account/logout")
    login(client, w.bob)
    assert client.get(f"/enterprises/{w.a.id}/listings").status_code == 403
    assert client.get(f"/market/offers/{draft.id}").status_code == 404
    assert client.post(f"/market/offers/{draft.id}/publish").status_code == 404
    assert client.get(f"/streams/{w.stream.id}/offers/new").status_code == 404
    assert f"/enterprises/{w.b.id}/demands/new" in client.get(f"/enterprises/{w.b.id}/listings").get_data(as_text=True)
    assert client.get(f"/enterprises/{w.a.id}/demands/new").status_code == 403


def test_regulator_reads_and_changes_nothing(client, market):
    w = market
    offer = new_offer(w)
    login(client, w.regulator)
    page = client.get(f"/market/offers/{offer.id}").get_data(as_text=True)
    assert "粉煤灰 Ⅱ级" in page and "/close" not in page and "/edit" not in page
    assert "草稿" not in client.get(f"/enterprises/{w.a.id}/listings").get_data(as_text=True)
    assert client.post(f"/market/offers/{offer.id}/close").status_code == 403
    assert client.get(f"/market/offers/{offer.id}/edit").status_code == 403
    assert client.post(f"/streams/{w.stream.id}/offers/new", data=offer_form()).status_code == 403
    db.session.refresh(offer)
    assert offer.status is ListingStatus.OPEN and count(Offer) == 1


def test_unverified_enterprise_cannot_publish(client, market):
    w = market
    w.a.status = EnterpriseStatus.PENDING
    db.session.commit()
    offer = new_offer(w, publish=False)
    login(client, w.alice)
    html = client.get(f"/market/offers/{offer.id}").get_data(as_text=True)
    assert "publish-help" in html and f"/market/offers/{offer.id}/publish" not in html
    assert client.post(f"/market/offers/{offer.id}/publish").status_code == 403
    db.session.refresh(offer)
    assert offer.status is ListingStatus.DRAFT


def test_status_buttons_need_the_csrf_token(csrf_app):
    from tests.factories import PASSWORD, make_enterprise, make_site, make_stream, make_user

    alice = make_user("alice@a.cn")
    a = make_enterprise(alice)
    stream = make_stream(a, make_site(a))
    from wasteex.market import service

    offer = service.create_offer(alice, dict(stream_id=stream.id, title="t", supply="one_off", tonnes="1",
                                             price_per_t="0", transport_by="either"))
    db.session.commit()
    client = csrf_app.test_client()
    token = csrf_token(client, "/account/login")
    client.post("/account/login", data={"email": alice.email, "password": PASSWORD, "csrf_token": token})
    assert client.post(f"/market/offers/{offer.id}/publish").status_code == 400
    db.session.refresh(offer)
    assert offer.status is ListingStatus.DRAFT
    token = csrf_token(client, f"/market/offers/{offer.id}")
    assert client.post(f"/market/offers/{offer.id}/publish", data={"csrf_token": token}).status_code == 302
    db.session.refresh(offer)
    assert offer.status is ListingStatus.OPEN
