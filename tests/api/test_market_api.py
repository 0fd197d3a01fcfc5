"""Offers and demands over the API: round trips, search, recommendations, and the 4xx cases."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.api.calls import assert_error, bearer
from tests.services.test_market_service import market, new_demand, new_offer  # noqa: F401
from wasteex.enterprises.models import EnterpriseStatus
from wasteex.extensions import db
from wasteex.market.models import Demand, ListingStatus, Offer


def offer_body(w, **changes) -> dict:
    body = {"stream_id": w.stream.id, "title": "粉煤灰 Ⅱ级", "supply": "one_off", "tonnes": "1200.5",
            "price_per_t": "-35", "transport_by": "utiliser"}
    return body | changes


def demand_body(site, **changes) -> dict:
    body = {"site_id": site.id, "title": "收购粉煤灰", "accepts": ["SW02"], "accepts_class": ["I", "II"],
            "route_key": "cement_admixture", "limits": {"al2o3_pct": {"min": 40, "max": None}},
            "supply": "recurring", "tonnes_per_month": 500, "window_start": "2025-07", "window_end": "2025-12",
            "max_km": 300, "price_per_t": 20}
    return body | changes


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_offer_round_trip(client, market):
    w = market
    alice, carol = bearer(w.alice), bearer(w.carol)
    response = client.post("/api/v1/offers", json=offer_body(w, quality={
        "loi_pct": {"value": 3.5, "measured_on": "2025-06-01"}}), headers=alice)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "draft" and body["total_kg"] == body["remaining_kg"] == 1_200_500
    assert body["sw_code"] == "SW02" and body["gb_class"] == "I" and body["price_per_t"] == "-35.00"
    assert body["quality"]["al2o3_pct"] == {"value": 45.2, "unit": "%", "measured_on": "2025-05-01",
                                            "declared": False}
    assert body["quality"]["loi_pct"]["declared"] is True and body["base"] == "jungar"
    offer_id = body["id"]
    assert_error(client.get(f"/api/v1/offers/{offer_id}", headers=carol), 404)  # a draft is private

    patched = client.patch(f"/api/v1/offers/{offer_id}", json={"supply": "recurring", "tonnes_per_month": "100",
                                                               "window_start": "2025-07", "window_end": "2025-09",
                                                               "max_km": 200}, headers=alice)
    assert patched.status_code == 200 and patched.json["total_kg"] == 300_000 and patched.json["months"] == 3
    assert patched.json["title"] == "粉煤灰 Ⅱ级" and patched.json["max_km"] == 200
    assert client.post(f"/api/v1/offers/{offer_id}/publish", headers=alice).json["status"] == "open"
    seen = client.get(f"/api/v1/offers/{offer_id}", headers=carol)
    assert seen.status_code == 200 and seen.json["enterprise_name"] == "甲电厂"
    listed = client.get("/api/v1/offers", headers=carol).json
    assert listed["total"] == 1 and listed["items"][0]["id"] == offer_id and listed["sort"] == "newest"
    assert client.post(f"/api/v1/offers/{offer_id}/pause", headers=alice).json["status"] == "paused"
    assert_error(client.get(f"/api/v1/offers/{offer_id}", headers=carol), 404)
    assert client.post(f"/api/v1/offers/{offer_id}/close", headers=alice).json["status"] == "closed"
    error = assert_error(client.post(f"/api/v1/offers/{offer_id}/publish", headers=alice), 409)
    assert error["code"] == "invalid_transition"
    assert_error(client.patch(f"/api/v1/offers/{offer_id}", json={"title": "x"}, headers=alice), 409)


def test_demand_round_trip_and_recommendations(client, market):
    w = market
    offer = new_offer(w)
    carol = bearer(w.carol)
    response = client.post("/api/v1/demands", json=demand_body(w.site_c), headers=carol)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["accepts"] == ["SW02"] and body["total_kg"] == 3_000_000 and body["route_key"] == "cement_admixture"
    assert body["limits"] == {"al2o3_pct": {"min": 40.0, "max": None, "unit": "%"}}
    demand_id = body["id"]
    patched = client.patch(f"/api/v1/demands/{demand_id}", json={"limits": {"al2o3_pct": {"min": "40", "max": "50"}},
                                                                "accepts": ["SW02", "SW03"]}, headers=carol)
    assert patched.status_code == 200 and patched.json["accepts"] == ["SW02", "SW03"]
    client.post(f"/api/v1/demands/{demand_id}/publish", headers=carol)
    recs = client.get(f"/api/v1/demands/{demand_id}/recommendations", headers=carol).json
    assert [x["id"] for x in recs["items"]] == [offer.id] and recs["blocked"] is None
    assert 10 < recs["items"][0]["distance_km"] < 25 and recs["items"][0]["reason"] is None
    recs = client.get(f"/api/v1/offers/{offer.id}/recommendations", headers=bearer(w.alice)).json
    assert [x["id"] for x in recs["items"]] == [demand_id]
    found = client.get(f"/api/v1/demands?sw_code=SW03&near={w.site_a.id}&sort=distance",
                       headers=bearer(w.alice)).json
    assert [x["id"] for x in found["items"]] == [demand_id] and found["items"][0]["distance_km"] > 10
    found = client.get("/api/v1/demands?al2o3_pct_min=45&al2o3_pct_max=55", headers=bearer(w.alice)).json
    assert found["total"] == 0  # the demand's maximum 50 cuts into 45–55
    found = client.get("/api/v1/offers?al2o3_pct_min=45&base=jungar&min_tonnes=1000", headers=carol).json
    assert [x["id"] for x in found["items"]] == [offer.id]


@pytest.mark.parametrize("changes, field, status", [
    ({"status": "open"}, "status", 422),
    ({"remaining_kg": 1}, "remaining_kg", 422),
    ({"enterprise_id": 1}, "enterprise_id", 422),
    ({"tonnes": "0"}, "tonnes", 422),
    ({"tonnes": "1.2345"}, "tonnes", 422),
    ({"tonnes": "NaN"}, "tonnes", 422),
    ({"supply": "recurring", "tonnes_per_month": 5, "window_start": "2025-09", "window_end": "2025-08"},
     "window_end", 422),
    ({"window_start": "July"}, "window_start", 422),
    ({"max_km": 0}, "max_km", 422),
    ({"max_km": 12.5}, "max_km", 422),
    ({"price_per_t": 1.005}, "price_per_t", 422),
    ({"quality": {"al2o3_pct": {"value": 46}}}, "quality", 422),
    ({"quality": {"al2o3_pct": {"value": 46, "measured_on": "2024-01-01"}}}, "quality.al2o3_pct.measured_on", 422),
    ({"transport_by": "rail"}, "transport_by", 422),
])
def test_offer_refusals(client, market, changes, field, status):
    w = market
    assert_error(client.post("/api/v1/offers", json=offer_body(w, **changes), headers=bearer(w.alice)), status, field)
    assert count(Offer) == 0


@pytest.mark.parametrize("changes, field", [
    ({"accepts": []}, "accepts"),
    ({"accepts_class": ["III"]}, "accepts_class"),
    ({"limits": {"al2o3_pct": {"min": 50, "max": 40}}}, "limits.al2o3_pct.max"),
    ({"limits": {"al2o3_pct": {"min": 50, "maximum": 40}}}, "limits"),
    ({"max_km": 0}, "max_km"),
    ({"max_km": 1001}, "max_km"),
    ({"route_key": "landfill_class_i"}, "route_key"),
    ({"status": "open"}, "status"),
    ({"remaining_kg": 5}, "remaining_kg"),
])
def test_demand_refusals(client, market, changes, field):
    w = market
    assert_error(client.post("/api/v1/demands", json=demand_body(w.site_b, **changes), headers=bearer(w.bob)),
                 422, field)
    assert count(Demand) == 0


def test_patch_cannot_write_status_or_stream(client, market):
    w = market
    offer = new_offer(w, publish=False)
    alice = bearer(w.alice)
    for body, field in (({"status": "open"}, "status"), ({"remaining_kg": 0}, "remaining_kg"),
                        ({"enterprise_id": w.b.id}, "enterprise_id"), ({"stream_id": w.stream.id}, "stream_id")):
        assert_error(client.patch(f"/api/v1/offers/{offer.id}", json=body, headers=alice), 422, field)
    db.session.refresh(offer)
    assert offer.status is ListingStatus.DRAFT and offer.remaining_kg == offer.total_kg


def test_permissions(client, market):
    w = market
    open_ = new_offer(w)
    draft = new_offer(w, publish=False)
    bob, regulator = bearer(w.bob), bearer(w.regulator)
    assert_error(client.post("/api/v1/offers", json=offer_body(w), headers=bob), 422, "stream_id")  # A's stream
    assert_error(client.post("/api/v1/demands", json=demand_body(w.site_c), headers=bob), 422, "site_id")  # C's site
    assert_error(client.patch(f"/api/v1/offers/{open_.id}", json={"title": "x"}, headers=bob), 403)
    assert_error(client.post(f"/api/v1/offers/{open_.id}/close", headers=bob), 403)
    assert_error(client.post(f"/api/v1/offers/{draft.id}/publish", headers=bob), 404)
    assert_error(client.get(f"/api/v1/offers/{draft.id}/recommendations", headers=bob), 404)
    assert client.get(f"/api/v1/offers/{draft.id}", headers=regulator).status_code == 200
    assert client.get("/api/v1/offers?status=draft", headers=regulator).json["total"] == 1
    assert client.get("/api/v1/offers?status=draft", headers=bob).json["total"] == 0
    assert_error(client.post("/api/v1/offers", json=offer_body(w), headers=regulator), 403)
    assert_error(client.post(f"/api/v1/offers/{open_.id}/pause", headers=regulator), 403)
    assert_error(client.post("/api/v1/offers", json=offer_body(w)), 401)
    db.session.refresh(open_)
    assert open_.status is ListingStatus.OPEN and count(Offer) == 2


def test_unverified_enterprise_cannot_publish(client, market):
    w = market
    w.a.status = EnterpriseStatus.PENDING
    db.session.commit()
    alice = bearer(w.alice)
    offer_id = client.post("/api/v1/offers", json=offer_body(w), headers=alice).json["id"]
    error = assert_error(client.post(f"/api/v1/offers/{offer_id}/publish", headers=alice), 403)
    assert error["code"] == "enterprise_not_verified" and error["message"]
    assert client.get(f"/api/v1/offers/{offer_id}", headers=alice).json["status"] == "draft"
    recs = client.get(f"/api/v1/offers/{offer_id}/recommendations", headers=alice).json
    assert recs["items"] == [] and recs["blocked"]


@pytest.mark.parametrize("query, field", [
    ("sort=distance", "sort"),
    ("km=50", "km"),
    ("sort=price;drop", "sort"),
    ("status=deleted", "status"),
    ("al2o3_pct_min=abc", "al2o3_pct_min"),
    ("per_page=1000", "per_page"),
    ("near=1&km=0", "km"),
])
def test_search_query_is_strict(client, market, query, field):
    w = market
    assert_error(client.get(f"/api/v1/offers?{query}", headers=bearer(w.carol)), 422, field)


def test_search_near_another_enterprises_site_is_refused(client, market):
    w = market
    new_demand(w.bob, w.site_b)
    assert_error(client.get(f"/api/v1/demands?near={w.site_b.id}", headers=bearer(w.carol)), 422, "near")
    page = client.get(f"/api/v1/demands?near={w.site_c.id}&km=500&sort=distance", headers=bearer(w.carol)).json
    assert page["total"] == 1 and 300 < page["items"][0]["distance_km"] < 450
