"""/api/v1/enterprises: visibility, registration, strict updates, verification, members."""
import pytest
from sqlalchemy import select

from tests.api.calls import assert_error, bearer
from tests.factories import make_enterprise, make_user
from wasteex.accounts.models import MemberRole, Membership
from wasteex.enterprises.models import Enterprise, EnterpriseStatus
from wasteex.enterprises.uscc import ALPHABET, make_uscc
from wasteex.extensions import db


def stored(enterprise_id: int) -> Enterprise:
    db.session.expire_all()
    return db.session.get(Enterprise, enterprise_id)


def new_enterprise(**changes) -> dict:
    body = {"name": "达拉特旗电石厂", "credit_code": make_uscc("9", "1", "150621", "APX00001"),
            "kinds": ["producer", "carrier"], "industry": "电石", "address": "达拉特旗树林召镇",
            "division_code": "150621", "contact_name": "马工", "contact_phone": "13600000000"}
    return body | changes


@pytest.fixture
def others_pending(world):
    carol = make_user("carol@c.cn")
    return make_enterprise(carol, status=EnterpriseStatus.PENDING, name="丙方待审")


def test_list_shows_verified_and_own_but_not_others_pending(client, world, others_pending):
    own_pending = make_enterprise(world.alice, status=EnterpriseStatus.PENDING, name="甲方分公司")
    response = client.get("/api/v1/enterprises?per_page=100", headers=bearer(world.alice))
    assert response.status_code == 200
    ids = {e["id"] for e in response.json["items"]}
    assert ids == {world.a.id, world.b.id, own_pending.id}
    assert response.json["total"] == 3
    regulator = client.get("/api/v1/enterprises?per_page=100", headers=bearer(world.regulator)).json
    assert {e["id"] for e in regulator["items"]} == ids | {others_pending.id}
    mine = client.get("/api/v1/enterprises?mine=true", headers=bearer(world.alice)).json
    assert {e["id"] for e in mine["items"]} == {world.a.id, own_pending.id}


def test_list_filters_sort_and_pages(client, world):
    headers = bearer(world.alice)
    page = client.get("/api/v1/enterprises?kind=utiliser", headers=headers).json
    assert [e["id"] for e in page["items"]] == [world.b.id]
    page = client.get("/api/v1/enterprises?sort=-name&per_page=1&page=2", headers=headers).json
    assert (page["page"], page["per_page"], page["total"], page["pages"]) == (2, 1, 2, 2)
    assert page["sort"] == "-name"
    assert_error(client.get("/api/v1/enterprises?sort=password_hash", headers=headers), 422, "sort")
    assert_error(client.get("/api/v1/enterprises?per_page=1000", headers=headers), 422, "per_page")
    assert_error(client.get("/api/v1/enterprises?page=x", headers=headers), 422, "page")
    assert_error(client.get("/api/v1/enterprises?status=deleted", headers=headers), 422, "status")


def test_others_pending_enterprise_is_404_by_id(client, world, others_pending):
    assert_error(client.get(f"/api/v1/enterprises/{others_pending.id}", headers=bearer(world.alice)), 404)
    assert client.get(f"/api/v1/enterprises/{others_pending.id}",
                      headers=bearer(world.regulator)).status_code == 200
    assert_error(client.get("/api/v1/enterprises/999999", headers=bearer(world.alice)), 404)


def test_create_starts_pending_with_the_caller_as_admin(client, world):
    carol = make_user("carol@c.cn")
    response = client.post("/api/v1/enterprises", json=new_enterprise(), headers=bearer(carol))
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "pending" and sorted(body["kinds"]) == ["carrier", "producer"]
    enterprise = stored(body["id"])
    assert enterprise.status is EnterpriseStatus.PENDING
    assert (enterprise.is_producer, enterprise.is_utiliser, enterprise.is_carrier) == (True, False, True)
    membership = db.session.scalar(select(Membership).where(Membership.enterprise_id == enterprise.id))
    assert membership.user_id == carol.id and membership.role is MemberRole.ADMIN


def test_create_refuses_bad_credit_codes_and_missing_kinds(client, world):
    headers = bearer(world.alice)
    valid = new_enterprise()["credit_code"]
    wrong = valid[:17] + next(c for c in ALPHABET if c != valid[17])
    error = assert_error(client.post("/api/v1/enterprises", json=new_enterprise(credit_code=wrong),
                                     headers=headers), 422, "credit_code")
    assert valid[17] in error["fields"]["credit_code"][0] and valid[17] in error["message"]
    assert_error(client.post("/api/v1/enterprises", json=new_enterprise(credit_code=world.b.credit_code),
                             headers=headers), 422, "credit_code")
    assert_error(client.post("/api/v1/enterprises", json=new_enterprise(kinds=[]), headers=headers), 422, "kinds")
    assert_error(client.post("/api/v1/enterprises", json=new_enterprise(kinds=["trader"]), headers=headers),
                 422, "kinds")
    assert db.session.scalar(select(Enterprise).where(Enterprise.name == "达拉特旗电石厂")) is None


def test_create_is_refused_to_regulators_and_platform_admins(client, world):
    for user in (world.regulator, world.admin):
        assert_error(client.post("/api/v1/enterprises", json=new_enterprise(), headers=bearer(user)), 403)
    assert db.session.scalar(select(Enterprise).where(Enterprise.name == "达拉特旗电石厂")) is None


def test_patch_changes_only_the_fields_sent(client, world):
    response = client.patch(f"/api/v1/enterprises/{world.a.id}", json={"contact_phone": "13511112222"},
                            headers=bearer(world.alice))
    assert response.status_code == 200 and response.json["contact_phone"] == "13511112222"
    enterprise = stored(world.a.id)
    assert enterprise.contact_phone == "13511112222" and enterprise.name == "甲电厂"
    response = client.patch(f"/api/v1/enterprises/{world.a.id}", json={"kinds": ["utiliser"]},
                            headers=bearer(world.alice))
    assert response.status_code == 200
    enterprise = stored(world.a.id)
    assert (enterprise.is_producer, enterprise.is_utiliser) == (False, True)


@pytest.mark.parametrize("field, value", [
    ("status", "verified"), ("id", 999), ("reviewed_by_id", 1), ("rejection_reason", None),
    ("is_producer", True),
])
def test_mass_assignment_is_refused_naming_the_field(client, world, field, value):
    pending = make_enterprise(world.alice, status=EnterpriseStatus.PENDING, name="甲方待审")
    response = client.patch(f"/api/v1/enterprises/{pending.id}", json={field: value, "name": "改名"},
                            headers=bearer(world.alice))
    error = assert_error(response, 422, field)
    assert "name" not in error["fields"]
    enterprise = stored(pending.id)
    assert enterprise.status is EnterpriseStatus.PENDING and enterprise.name == "甲方待审"


def test_patch_by_non_admins_is_refused(client, world):
    member = make_user("member@a.cn")
    db.session.add(Membership(user=member, enterprise=world.a, role=MemberRole.MEMBER))
    db.session.commit()
    for user, status in ((member, 403), (world.bob, 403), (world.regulator, 403), (world.admin, 403)):
        assert_error(client.patch(f"/api/v1/enterprises/{world.a.id}", json={"name": "被改"},
                                  headers=bearer(user)), status)
    assert stored(world.a.id).name == "甲电厂"


def test_verify_and_reject_by_platform_admin_only(client, world, others_pending):
    url = f"/api/v1/enterprises/{others_pending.id}"
    for user in (world.alice, world.regulator):
        assert client.post(f"{url}/verify", headers=bearer(user)).status_code in (403, 404)
        assert client.post(f"{url}/reject", json={"reason": "x"}, headers=bearer(user)).status_code in (403, 404)
    assert stored(others_pending.id).status is EnterpriseStatus.PENDING
    admin = bearer(world.admin)
    assert_error(client.post(f"{url}/reject", json={}, headers=admin), 422, "reason")
    assert_error(client.post(f"{url}/reject", json={"reason": ""}, headers=admin), 422, "reason")
    response = client.post(f"{url}/reject", json={"reason": "执照过期"}, headers=admin)
    assert response.status_code == 200 and response.json["rejection_reason"] == "执照过期"
    assert stored(others_pending.id).status is EnterpriseStatus.REJECTED
    response = client.post(f"{url}/verify", headers=admin)
    assert response.status_code == 200 and response.json["status"] == "verified"
    enterprise = stored(others_pending.id)
    assert enterprise.status is EnterpriseStatus.VERIFIED and enterprise.rejection_reason is None
    assert enterprise.reviewed_by_id == world.admin.id


def test_members_are_private(client, world):
    response = client.get(f"/api/v1/enterprises/{world.a.id}/members", headers=bearer(world.alice))
    assert response.status_code == 200
    assert [(m["user_email"], m["role"]) for m in response.json] == [("alice@a.cn", "admin")]
    assert_error(client.get(f"/api/v1/enterprises/{world.b.id}/members", headers=bearer(world.alice)), 403)
    assert client.get(f"/api/v1/enterprises/{world.b.id}/members",
                      headers=bearer(world.regulator)).status_code == 200
