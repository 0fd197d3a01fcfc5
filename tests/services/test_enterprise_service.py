"""Enterprise, site and facility services on a real database: rules, permissions, stored state."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import add_member, make_enterprise, make_site, make_user
from wasteex.accounts import service as accounts
from wasteex.accounts.models import MemberRole, Membership, PlatformRole
from wasteex.enterprises import service
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Facility, Site
from wasteex.enterprises.uscc import ALPHABET, make_uscc
from wasteex.errors import NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.geo import Base


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def enterprise_data(**changes) -> dict:
    data = dict(name="伊泰准格尔煤矿", credit_code=make_uscc("9", "1", "150622", "E5T00001"),
                is_producer=True, is_utiliser=False, is_carrier=False, industry="煤炭开采",
                address="准格尔旗大路镇", division_code="150622", contact_name="李工",
                contact_phone="13900000000")
    return data | changes


def site_data(**changes) -> dict:
    data = dict(name="二号厂区", code="S02", address="工业园区1号", division_code="150626",
                latitude=Decimal("38.61"), longitude=Decimal("108.82"))
    return data | changes


def wrong_check_char(code: str) -> str:
    return code[:17] + next(ch for ch in ALPHABET if ch != code[17])


# Enterprise registration ----------------------------------------------------

def test_registration_starts_pending_and_makes_the_caller_admin(world):
    enterprise = service.register_enterprise(world.alice, enterprise_data())
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Enterprise, enterprise.id)
    assert stored.status is EnterpriseStatus.PENDING
    assert stored.credit_code == enterprise_data()["credit_code"]
    membership = db.session.scalar(select(Membership).where(Membership.enterprise_id == stored.id))
    assert membership.user_id == world.alice.id and membership.role is MemberRole.ADMIN


def test_credit_code_is_normalised_before_it_is_stored(world):
    code = enterprise_data()["credit_code"]
    enterprise = service.register_enterprise(world.alice, enterprise_data(credit_code=f"  {code.lower()} "))
    db.session.commit()
    assert db.session.get(Enterprise, enterprise.id).credit_code == code


def test_wrong_check_character_is_refused_naming_the_expected_one(world):
    valid = enterprise_data()["credit_code"]
    before = count(Enterprise)
    with pytest.raises(ValidationFailed) as caught:
        service.register_enterprise(world.alice, enterprise_data(credit_code=wrong_check_char(valid)))
    assert list(caught.value.fields) == ["credit_code"]
    assert valid[17] in caught.value.message
    db.session.rollback()
    assert count(Enterprise) == before


def test_duplicate_credit_code_is_refused_even_in_another_spelling(world):
    code = enterprise_data()["credit_code"]
    service.register_enterprise(world.alice, enterprise_data())
    db.session.commit()
    full_width = code.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    for spelling in (code, code.lower(), full_width):
        with pytest.raises(ValidationFailed) as caught:
            service.register_enterprise(world.bob, enterprise_data(credit_code=spelling, name="另一家"))
        assert "credit_code" in caught.value.fields
        db.session.rollback()
    assert db.session.scalar(select(func.count()).where(Enterprise.credit_code == code)) == 1


def test_an_enterprise_needs_at_least_one_kind(world):
    before = count(Enterprise)
    with pytest.raises(ValidationFailed) as caught:
        service.register_enterprise(world.alice, enterprise_data(is_producer=False))
    assert "is_producer" in caught.value.fields
    db.session.rollback()
    assert count(Enterprise) == before


def test_division_must_be_in_ordos(world):
    with pytest.raises(ValidationFailed) as caught:
        service.register_enterprise(world.alice, enterprise_data(division_code="110101"))
    assert "division_code" in caught.value.fields


def test_status_cannot_be_set_through_registration_or_update(world):
    enterprise = service.register_enterprise(world.alice, enterprise_data(status=EnterpriseStatus.VERIFIED))
    db.session.commit()
    service.update_enterprise(world.alice, enterprise.id, {"status": EnterpriseStatus.VERIFIED, "name": "新名"})
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Enterprise, enterprise.id)
    assert stored.status is EnterpriseStatus.PENDING and stored.name == "新名"


def test_verified_credit_code_is_frozen(world):
    with pytest.raises(ValidationFailed) as caught:
        service.update_enterprise(world.alice, world.a.id,
                                  {"credit_code": make_uscc("9", "1", "150622", "FRAGEN01")})
    assert "credit_code" in caught.value.fields


# Verification ----------------------------------------------------------------

@pytest.fixture
def pending(world):
    return make_enterprise(world.alice, status=EnterpriseStatus.PENDING, name="待审企业")


def test_only_platform_admins_verify_or_reject(world, pending):
    for actor in (world.alice, world.bob, world.regulator):  # alice is the enterprise's own admin
        with pytest.raises(PermissionDenied):
            service.verify_enterprise(actor, pending.id)
        with pytest.raises(PermissionDenied):
            service.reject_enterprise(actor, pending.id, "资料不全")
        db.session.rollback()
    db.session.expire_all()
    stored = db.session.get(Enterprise, pending.id)
    assert stored.status is EnterpriseStatus.PENDING and stored.reviewed_by_id is None


def test_platform_admin_verifies(world, pending):
    service.verify_enterprise(world.admin, pending.id)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Enterprise, pending.id)
    assert stored.status is EnterpriseStatus.VERIFIED
    assert stored.reviewed_by_id == world.admin.id and stored.reviewed_at is not None


def test_platform_admin_rejects_with_a_reason_only(world, pending):
    with pytest.raises(ValidationFailed) as caught:
        service.reject_enterprise(world.admin, pending.id, "   ")
    assert "reason" in caught.value.fields
    db.session.rollback()
    service.reject_enterprise(world.admin, pending.id, " 营业执照照片不清晰 ")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Enterprise, pending.id)
    assert stored.status is EnterpriseStatus.REJECTED
    assert stored.rejection_reason == "营业执照照片不清晰"


def test_others_pending_enterprise_is_invisible(world, pending):
    with pytest.raises(NotFound):
        service.get_enterprise(world.bob, pending.id)
    assert service.get_enterprise(world.regulator, pending.id).id == pending.id
    ids = [e.id for e in service.list_enterprises(world.bob, service.EnterpriseFilter(), None, 1, 100).items]
    assert pending.id not in ids and world.a.id in ids


# Regulators write nothing ----------------------------------------------------

def snapshot():
    db.session.expire_all()
    return (
        count(Enterprise), count(Site), count(Facility), count(Membership),
        tuple(db.session.execute(select(Enterprise.id, Enterprise.name, Enterprise.status)).all()),
        tuple(db.session.execute(select(Site.id, Site.name, Site.code)).all()),
        tuple(db.session.execute(select(Facility.id, Facility.active)).all()),
    )


REGULATOR_WRITES = {
    "register_enterprise": lambda w: service.register_enterprise(w.regulator, enterprise_data()),
    "update_enterprise": lambda w: service.update_enterprise(w.regulator, w.b.id, {"name": "改名"}),
    "verify": lambda w: service.verify_enterprise(w.regulator, w.b.id),
    "reject": lambda w: service.reject_enterprise(w.regulator, w.b.id, "no"),
    "create_site": lambda w: service.create_site(w.regulator, w.b.id, site_data()),
    "update_site": lambda w: service.update_site(w.regulator, w.site_b.id, {"name": "改名"}),
    "add_facility": lambda w: service.add_facility(
        w.regulator, w.site_b.id, dict(kind="storage", code="X-1", name="n", responsible_person="p")),
    "retire_facility": lambda w: service.set_facility_active(w.regulator, w.facility_b.id, False),
    "add_member": lambda w: accounts.add_member(w.regulator, w.b, "alice@a.cn", MemberRole.MEMBER),
    "remove_member": lambda w: accounts.remove_member(w.regulator, w.b, w.b.memberships[0].id),
}


def test_regulators_are_refused_on_every_write(world):
    before = snapshot()
    for name, write in REGULATOR_WRITES.items():
        with pytest.raises(PermissionDenied):
            write(world)
        db.session.rollback()
        assert snapshot() == before, name


def test_readers_read_but_do_not_write(world):
    reader = make_user("reader@a.cn")
    add_member(reader, world.a, MemberRole.READER)
    assert [s.id for s in service.sites_of(reader, world.a.id)] == [world.site_a.id]
    with pytest.raises(PermissionDenied):
        service.create_site(reader, world.a.id, site_data())
    with pytest.raises(PermissionDenied):
        service.update_enterprise(reader, world.a.id, {"name": "x"})


# Sites -------------------------------------------------------------------------

def test_site_base_follows_the_banner(world):
    expected = {"150622": Base.JUNGAR, "150626": Base.UXIN, "150624": Base.OTOG,
                "150602": Base.OUTSIDE, "150627": Base.OUTSIDE}
    ids = {division: service.create_site(world.alice, world.a.id,
                                         site_data(code=f"B{division}", division_code=division)).id
           for division in expected}
    db.session.commit()
    db.session.expire_all()
    assert {division: db.session.get(Site, site_id).base for division, site_id in ids.items()} == expected


def test_changing_the_banner_moves_the_site_to_another_base(world):
    service.update_site(world.alice, world.site_a.id, {"division_code": "150624"})
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Site, world.site_a.id)
    assert stored.division_code == "150624" and stored.base is Base.OTOG


BAD_SITES = [
    ({"latitude": Decimal("90.5")}, "latitude"),
    ({"latitude": Decimal("-91")}, "latitude"),
    ({"longitude": Decimal("180.01")}, "longitude"),
    ({"longitude": Decimal("-181")}, "longitude"),
    ({"latitude": 39.5}, "latitude"),  # floats are refused: coordinates are exact decimals
    ({"latitude": None}, "latitude"),
    ({"latitude": Decimal("NaN")}, "latitude"),
    ({"longitude": Decimal("Infinity")}, "longitude"),
    ({"division_code": "110101"}, "division_code"),
    ({"code": "  "}, "code"),
]


def test_site_coordinates_and_fields_are_checked(world):
    before = count(Site)
    for changes, field in BAD_SITES:
        with pytest.raises(ValidationFailed) as caught:
            service.create_site(world.alice, world.a.id, site_data(**changes))
        assert list(caught.value.fields) == [field], changes
        db.session.rollback()
    with pytest.raises(ValidationFailed):
        service.update_site(world.alice, world.site_a.id, {"latitude": Decimal("-90.000001")})
    db.session.rollback()
    assert count(Site) == before
    assert db.session.get(Site, world.site_a.id).latitude == Decimal("39.865000")


def test_coordinates_at_the_limits_are_accepted_and_rounded(world):
    site = service.create_site(world.alice, world.a.id,
                               site_data(latitude=Decimal("-90"), longitude=Decimal("179.1234567")))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Site, site.id)
    assert stored.latitude == Decimal("-90") and stored.longitude == Decimal("179.123457")


def test_site_code_unique_per_enterprise(world):
    with pytest.raises(ValidationFailed) as caught:
        service.create_site(world.alice, world.a.id, site_data(code=world.site_a.code))
    assert "code" in caught.value.fields
    db.session.rollback()
    # Another enterprise may use the same code.
    make_site(world.b, code="S02")
    service.create_site(world.alice, world.a.id, site_data(code="S02"))
    db.session.commit()


# Facilities --------------------------------------------------------------------

def facility_data(**changes):
    return dict(kind="storage", code="ZC-01", name="灰库", responsible_person="赵工") | changes


def test_facility_code_unique_per_site(world):
    service.add_facility(world.alice, world.site_a.id, facility_data())
    db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        service.add_facility(world.alice, world.site_a.id, facility_data(name="另一个"))
    assert "code" in caught.value.fields
    db.session.rollback()
    other_site = make_site(world.a, code="S09")
    service.add_facility(world.alice, other_site.id, facility_data())
    db.session.commit()
    codes = db.session.scalars(select(Facility.code).join(Site).where(Site.enterprise_id == world.a.id)).all()
    assert sorted(codes) == ["ZC-01", "ZC-01"]


def test_facility_kind_is_checked(world):
    with pytest.raises(ValidationFailed) as caught:
        service.add_facility(world.alice, world.site_a.id, facility_data(kind="furnace"))
    assert "kind" in caught.value.fields


def test_facilities_are_retired_not_deleted(world):
    facility = service.add_facility(world.alice, world.site_a.id, facility_data())
    db.session.commit()
    service.set_facility_active(world.alice, facility.id, False)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Facility, facility.id).active is False


def test_another_enterprise_cannot_reach_sites_or_facilities(world):
    for call in (
        lambda: service.get_site(world.alice, world.site_b.id),
        lambda: service.update_site(world.alice, world.site_b.id, {"name": "x"}),
        lambda: service.add_facility(world.alice, world.site_b.id, facility_data()),
        lambda: service.get_facility(world.alice, world.facility_b.id),
        lambda: service.set_facility_active(world.alice, world.facility_b.id, False),
    ):
        with pytest.raises(NotFound):
            call()
    for call in (
        lambda: service.sites_of(world.alice, world.b.id),
        lambda: service.members_of(world.alice, world.b.id),
        lambda: service.create_site(world.alice, world.b.id, site_data()),
        lambda: service.update_enterprise(world.alice, world.b.id, {"name": "x"}),
    ):
        with pytest.raises(PermissionDenied):
            call()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Facility, world.facility_b.id).active is True
    assert [f.code for f in db.session.get(Site, world.site_b.id).facilities] == ["CS-01"]


def test_platform_roles_cannot_create_business_data(world):
    admin = make_user("admin2@wasteex.cn", PlatformRole.ADMIN)
    with pytest.raises(PermissionDenied):
        service.register_enterprise(admin, enterprise_data())


def test_an_unverified_enterprise_still_manages_its_sites_and_facilities(world, pending):
    site = service.create_site(world.alice, pending.id, site_data())
    facility = service.add_facility(world.alice, site.id, facility_data())
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Facility, facility.id).site.enterprise_id == pending.id
    assert db.session.get(Enterprise, pending.id).status is EnterpriseStatus.PENDING
