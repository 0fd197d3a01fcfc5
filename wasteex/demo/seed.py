"""Create the demo Ordos once: verified enterprises with valid credit codes, sites, users."""
from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from wasteex.accounts.models import MemberRole, Membership, PlatformRole, User
from wasteex.accounts.passwords import hash_password
from wasteex.database import utcnow
from wasteex.demo.data import DEMO_PASSWORD, ENTERPRISES, PRODUCER_FACILITIES, USERS, DemoEnterprise
from wasteex.demo.ledger import seed_ledger
from wasteex.demo.market import seed_market
from wasteex.demo.transfers import seed_transfers
from wasteex.regulator import anomalies
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Facility, FacilityKind, Site
from wasteex.enterprises.uscc import make_uscc
from wasteex.extensions import db
from wasteex.geo import DIVISIONS, base_of

ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SENTINEL_EMAIL = USERS[0][0]


def _credit_code(rng: random.Random, division: str) -> str:
    body = "".join(rng.choice(ORG_ALPHABET[:10] if i < 2 else ORG_ALPHABET) for i in range(8))
    return make_uscc("9", "1", division, body)


def _contact(rng: random.Random) -> tuple[str, str]:
    surnames, given = "王李张刘陈杨赵黄周吴高郭马", "伟芳娜敏静强磊军洋勇艳杰涛明超"
    name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
    return name, "13" + "".join(rng.choice("0123456789") for _ in range(9))


def _enterprise(rng: random.Random, row: DemoEnterprise) -> Enterprise:
    contact_name, phone = _contact(rng)
    division = DIVISIONS[row.division]
    enterprise = Enterprise(
        name=row.name, credit_code=_credit_code(rng, row.division),
        is_producer="producer" in row.kinds, is_utiliser="utiliser" in row.kinds,
        is_carrier="carrier" in row.kinds, industry=row.industry,
        address=f"内蒙古自治区鄂尔多斯市{division.name_zh}{row.site}",
        division_code=row.division, contact_name=contact_name, contact_phone=phone,
        status=EnterpriseStatus.VERIFIED, reviewed_at=utcnow(),
    )
    enterprise.sites.append(Site(
        name=row.site, code="S01", address=enterprise.address,
        latitude=Decimal(row.lat), longitude=Decimal(row.lon),
        division_code=row.division, base=base_of(row.division),
    ))
    return enterprise


def seed_demo() -> bool:
    """Returns False (and changes nothing) when the demo data is already there."""
    if db.session.scalar(select(User.id).where(User.email == SENTINEL_EMAIL)) is not None:
        return False
    rng = random.Random(20251128)
    by_key = {row.key: _enterprise(rng, row) for row in ENTERPRISES}
    db.session.add_all(by_key.values())
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    password_hash = hash_password(DEMO_PASSWORD, method)
    for email, name, role, enterprise_key in USERS:
        user = User(email=email, name=name, password_hash=password_hash,
                    platform_role=PlatformRole(role), locale="zh_Hans_CN")
        db.session.add(user)
        if enterprise_key:
            db.session.add(Membership(user=user, enterprise=by_key[enterprise_key], role=MemberRole.ADMIN))
    plant = by_key["jungar_power"].sites[0]
    for kind, code, name in PRODUCER_FACILITIES:
        plant.facilities.append(Facility(kind=FacilityKind(kind), code=code, name=name,
                                         responsible_person="赵工"))
    db.session.flush()
    authors = _entry_authors(by_key)
    seed_ledger(authors, [e for e in by_key.values() if e.is_utiliser], date.today())
    seed_market(date.today())
    seed_transfers(date.today())
    db.session.flush()
    anomalies.scan(date.today(), workers=1)  # the inspectors' worklist, as the nightly scan would leave it
    return True


def _entry_authors(by_key: dict[str, Enterprise]) -> dict[int, User]:
    """Who records each enterprise's demo ledger: its demo admin, or a clerk account made for it."""
    authors: dict[int, User] = {}
    for enterprise in by_key.values():
        admin = next((m.user for m in enterprise.memberships if m.role is MemberRole.ADMIN), None)
        if admin is None:
            admin = User(email=f"clerk{enterprise.id}@demo.wasteex.cn", name=f"{enterprise.name}台账员",
                         password_hash="!", locale="zh_Hans_CN", active=False)
            db.session.add(Membership(user=admin, enterprise=enterprise, role=MemberRole.MEMBER))
        authors[enterprise.id] = admin
    db.session.flush()
    return authors
