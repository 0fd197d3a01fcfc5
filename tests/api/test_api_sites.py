"""Sites and facilities over the API, and the cross-enterprise matrix (A's token on B's objects)."""
from decimal import Decimal

from sqlalchemy import select

from tests.api.calls import assert_error, bearer
from tests.factories import add_member, make_user
from wasteex.accounts.models import MemberRole, Membership
from wasteex.enterprises.models import Enterprise, Facility, Site
from wasteex.extensions import db
from wasteex.geo import Base

SITE = {"name": "棋盘井厂区", "code": "QPJ-1", "address": "鄂托克旗棋盘井镇", "division_code": "150624",
        "latitude": 39.35, "longitude": 106.98}
FACILITY = {"kind": "storage", "code": "ZC-01", "name": "渣库", "responsible_person": "赵工"}


def site_row(site_id: int) -> Site:
    db.session.expire_all()
    return db.session.get(Site, site_id)


def test_site_and_facility_lifecycle(client, world):
    headers = bearer(world.alice)
    response = client.post(f"/api/v1/enterprises/{world.a.id}/sites", json=SITE, headers=headers)
    assert response.status_code == 201
    body = response.json
    assert body["base"] == "otog" and body["latitude"] == 39.35 and body["enterprise_id"] == world.a.id
    site = site_row(body["id"])
    assert site.base is Base.OTOG and site.latitude == Decimal("39.350000")

    listed = client.get(f"/api/v1/enterprises/{world.a.id}/sites", headers=headers).json
    assert sorted(s["code"] for s in listed) == ["QPJ-1", "S01"]

    response = client.patch(f"/api/v1/sites/{site.id}", json={"division_code": "150626", "latitude": "38.61"},
                            headers=headers)
    assert response.status_code == 200 and response.json["base"] == "uxin"
    site = site_row(site.id)
    assert (site.base, site.latitude, site.name) == (Base.UXIN, Decimal("38.610000"), "棋盘井厂区")

    response = client.post(f"/api/v1/sites/{site.id}/facilities", json=FACILITY, headers=headers)
    assert response.status_code == 201 and response.json["active"] is True
    facility_id = response.json["id"]
    assert_error(client.post(f"/api/v1/sites/{site.id}/facilities", json=FACILITY | {"name": "重复"},
                             headers=headers), 422, "code")
    assert [f["code"] for f in client.get(f"/api/v1/sites/{site.id}/facilities", headers=headers).json] == ["ZC-01"]
    response = client.patch(f"/api/v1/facilities/{facility_id}", json={"active": False}, headers=headers)
    assert response.status_code == 200 and response.json["active"] is False
    db.session.expire_all()
    assert db.session.get(Facility, facility_id).active is False
    assert client.get(f"/api/v1/facilities/{facility_id}", headers=headers).json["code"] == "ZC-01"


def test_site_validation(client, world):
    headers = bearer(world.alice)
    url = f"/api/v1/enterprises/{world.a.id}/sites"
    cases = [
        ({"latitude": 90.000001}, "latitude"), ({"longitude": -180.5}, "longitude"),
        ({"latitude": "NaN"}, "latitude"), ({"longitude": "-Infinity"}, "longitude"),
        ({"latitude": 1e400}, "latitude"), ({"latitude": True}, "latitude"), ({"latitude": "北纬"}, "latitude"),
        ({"division_code": "110101"}, "division_code"), ({"code": ""}, "code"), ({"code": "S01"}, "code"),
    ]
    for change, field in cases:
        assert_error(client.post(url, json=SITE | change, headers=headers), 422, field)
    assert_error(client.patch(f"/api/v1/sites/{world.site_a.id}", json={"latitude": "NaN"}, headers=headers),
                 422, "latitude")
    assert [s.code for s in db.session.scalars(select(Site).where(Site.enterprise_id == world.a.id))] == ["S01"]
    assert site_row(world.site_a.id).latitude == Decimal("39.865000")


def test_readers_and_platform_roles_cannot_write(client, world):
    reader = make_user("reader@a.cn")
    add_member(reader, world.a, MemberRole.READER)
    for user in (reader, world.regulator, world.admin):
        headers = bearer(user)
        assert client.get(f"/api/v1/sites/{world.site_a.id}", headers=headers).status_code == 200
        assert_error(client.post(f"/api/v1/enterprises/{world.a.id}/sites", json=SITE, headers=headers), 403)
        assert_error(client.patch(f"/api/v1/sites/{world.site_a.id}", json={"name": "x"}, headers=headers), 403)
        assert_error(client.post(f"/api/v1/sites/{world.site_b.id}/facilities", json=FACILITY,
                                 headers=headers), 403 if user is not reader else 404)
        assert_error(client.patch(f"/api/v1/facilities/{world.facility_b.id}", json={"active": False},
                                  headers=headers), 403 if user is not reader else 404)
    assert site_row(world.site_a.id).name == "一号厂区"
    db.session.expire_all()
    assert db.session.get(Facility, world.facility_b.id).active is True


def snapshot():
    db.session.expire_all()
    return (
        db.session.execute(select(Enterprise.id, Enterprise.name, Enterprise.status, Enterprise.contact_phone)
                           .order_by(Enterprise.id)).all(),
        db.session.execute(select(Site.id, Site.enterprise_id, Site.name, Site.code, Site.latitude,
                                  Site.division_code).order_by(Site.id)).all(),
        db.session.execute(select(Facility.id, Facility.site_id, Facility.code, Facility.active)
                           .order_by(Facility.id)).all(),
        db.session.execute(select(Membership.id, Membership.user_id, Membership.enterprise_id, Membership.role)
                           .order_by(Membership.id)).all(),
    )


def test_cross_enterprise_matrix(client, world):
    """Every endpoint that names one of B's objects, called with A's token: 403 or 404, nothing changes."""
    world.site_b.name = "乙方保密厂区"
    db.session.commit()
    headers = bearer(world.alice)
    b, site, facility = world.b.id, world.site_b.id, world.facility_b.id
    matrix = [
        ("get", f"/api/v1/enterprises/{b}/members", None),
        ("get", f"/api/v1/enterprises/{b}/sites", None),
        ("post", f"/api/v1/enterprises/{b}/sites", SITE),
        ("patch", f"/api/v1/enterprises/{b}", {"name": "被改"}),
        ("post", f"/api/v1/enterprises/{b}/verify", None),
        ("post", f"/api/v1/enterprises/{b}/reject", {"reason": "x"}),
        ("get", f"/api/v1/sites/{site}", None),
        ("patch", f"/api/v1/sites/{site}", {"name": "被改"}),
        ("get", f"/api/v1/sites/{site}/facilities", None),
        ("post", f"/api/v1/sites/{site}/facilities", FACILITY),
        ("get", f"/api/v1/facilities/{facility}", None),
        ("patch", f"/api/v1/facilities/{facility}", {"active": False}),
    ]
    before = snapshot()
    for method, url, body in matrix:
        kwargs = {"headers": headers} | ({"json": body} if body is not None else {})
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code in (403, 404), (method, url, response.status_code)
        assert_error(response, response.status_code)
        assert "乙方保密厂区" not in response.get_data(as_text=True)
    assert snapshot() == before
    # Public profile only: B is verified, so its directory entry is visible.
    assert client.get(f"/api/v1/enterprises/{b}", headers=headers).status_code == 200
