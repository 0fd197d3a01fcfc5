"""Test data builders. They go through the real models and commit, like a user would."""
from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from wasteex.accounts.models import MemberRole, Membership, PlatformRole, User
from wasteex.accounts.passwords import hash_password
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Facility, FacilityKind, Site
from wasteex.enterprises.uscc import make_uscc
from wasteex.extensions import db
from wasteex.geo import base_of

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def unique_credit_code(division: str = "150622") -> str:
    n = next(_counter)
    return make_uscc("9", "1", division, f"{n:08d}")


def make_user(email: str | None = None, role: PlatformRole = PlatformRole.NONE, name: str = "测试用户") -> User:
    user = User(email=email or f"user{next(_counter)}@example.cn", name=name,
                password_hash=hash_password(PASSWORD, "scrypt:1024:8:1"), platform_role=role)
    db.session.add(user)
    db.session.commit()
    return user


def make_enterprise(admin: User | None = None, *, status=EnterpriseStatus.VERIFIED, division: str = "150622",
                    name: str | None = None, producer=True, utiliser=False, carrier=False) -> Enterprise:
    enterprise = Enterprise(
        name=name or f"测试企业{next(_counter)}", credit_code=unique_credit_code(division),
        is_producer=producer, is_utiliser=utiliser, is_carrier=carrier, industry="火力发电",
        address="准格尔旗薛家湾镇", division_code=division, contact_name="王工", contact_phone="13800000000",
        status=status,
    )
    db.session.add(enterprise)
    if admin is not None:
        db.session.add(Membership(user=admin, enterprise=enterprise, role=MemberRole.ADMIN))
    db.session.commit()
    return enterprise


def add_member(user: User, enterprise: Enterprise, role: MemberRole) -> Membership:
    membership = Membership(user=user, enterprise=enterprise, role=role)
    db.session.add(membership)
    db.session.commit()
    return membership


def make_site(enterprise: Enterprise, code: str = "S01", division: str | None = None) -> Site:
    division = division or enterprise.division_code
    site = Site(enterprise=enterprise, name="一号厂区", code=code, address="厂区路1号",
                latitude=Decimal("39.865000"), longitude=Decimal("111.216000"),
                division_code=division, base=base_of(division))
    db.session.add(site)
    db.session.commit()
    return site


def make_facility(site: Site, code: str = "CS-01", kind: FacilityKind = FacilityKind.GENERATION) -> Facility:
    facility = Facility(site=site, kind=kind, code=code, name="电除尘器", responsible_person="赵工")
    db.session.add(facility)
    db.session.commit()
    return facility


def login(client, user: User, password: str = PASSWORD):
    return client.post("/account/login", data={"email": user.email, "password": password})


@pytest.fixture
def world(app):
    """Two enterprises A and B with an admin each, a regulator and a platform admin."""
    class World:
        pass

    w = World()
    w.alice = make_user("alice@a.cn", name="Alice")
    w.bob = make_user("bob@b.cn", name="Bob")
    w.regulator = make_user("reg@gov.cn", PlatformRole.REGULATOR, name="监管员")
    w.admin = make_user("admin@wasteex.cn", PlatformRole.ADMIN, name="管理员")
    w.a = make_enterprise(w.alice, name="甲电厂")
    w.b = make_enterprise(w.bob, name="乙砖厂", utiliser=True, producer=False, division="150624")
    w.site_a = make_site(w.a)
    w.site_b = make_site(w.b, division="150624")
    w.facility_b = make_facility(w.site_b)
    return w


def make_stream(enterprise: Enterprise, site: Site, sw_code: str = "SW02", name: str = "粉煤灰"):
    from sqlalchemy import select

    from wasteex.catalog.models import WasteCategory
    from wasteex.streams.models import GbClass, PhysicalForm, WasteStream

    category = db.session.scalar(select(WasteCategory).where(WasteCategory.sw_code == sw_code))
    stream = WasteStream(enterprise=enterprise, site=site, name=name, category=category, gb_class=GbClass.I,
                         physical_form=PhysicalForm.POWDER, process_step="锅炉燃烧", expected_annual_kg=10**8)
    db.session.add(stream)
    db.session.commit()
    return stream
