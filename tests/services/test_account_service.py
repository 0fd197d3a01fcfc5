"""Account services: registration, passwords, memberships, API tokens and login throttling."""
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD, add_member, make_user
from wasteex.accounts import service
from wasteex.accounts.models import ApiToken, MemberRole, Membership, User
from wasteex.database import utcnow
from wasteex.errors import NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db

STRONG = "amber-lantern-quietly-folds"


def members(enterprise) -> dict[str, MemberRole]:
    db.session.expire_all()
    rows = db.session.execute(select(User.email, Membership.role).join(Membership.user)
                              .where(Membership.enterprise_id == enterprise.id)).all()
    return dict(rows)


# Registration and passwords ------------------------------------------------------

def test_registration_hashes_with_scrypt_and_normalises_the_email(app):
    user = service.register_user("  Zhang.San@Example.CN ", "张三", STRONG)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.email == "zhang.san@example.cn"
    assert stored.password_hash.startswith("scrypt:") and STRONG not in stored.password_hash
    with pytest.raises(ValidationFailed) as caught:
        service.register_user("zhang.san@example.cn", "冒名", STRONG)
    assert "email" in caught.value.fields


@pytest.mark.parametrize("password", ["short-pw1", "password1234", "x" * 129])
def test_weak_or_short_passwords_are_refused(app, password):
    with pytest.raises(ValidationFailed) as caught:
        service.register_user("weak@example.cn", "弱", password)
    assert "password" in caught.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_password_change_checks_the_current_one_and_rotates_the_session_token(world):
    old_token = world.alice.session_token
    with pytest.raises(ValidationFailed) as caught:
        service.change_password(world.alice, "not-my-password", STRONG)
    assert "current_password" in caught.value.fields
    service.change_password(world.alice, PASSWORD, STRONG)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(User, world.alice.id)
    assert stored.session_token != old_token and stored.password_changed_at is not None
    assert service.authenticate("alice@a.cn", STRONG, "10.0.0.1").id == world.alice.id


# Authentication and throttling ---------------------------------------------------

def test_unknown_user_and_wrong_password_get_the_same_answer(world):
    with pytest.raises(service.LoginRefused) as unknown:
        service.authenticate("nobody@a.cn", PASSWORD, "10.0.0.1")
    with pytest.raises(service.LoginRefused) as wrong:
        service.authenticate("alice@a.cn", "wrong-password", "10.0.0.1")
    assert unknown.value.message == wrong.value.message
    assert unknown.value.status == wrong.value.status == 401


def test_inactive_users_cannot_sign_in(world):
    world.alice.active = False
    db.session.commit()
    with pytest.raises(service.LoginRefused):
        service.authenticate("alice@a.cn", PASSWORD, "10.0.0.1")


def test_five_failures_lock_the_account_from_any_ip(world):
    for n in range(5):  # one failure each from five addresses: the account counter trips
        with pytest.raises(service.LoginRefused):
            service.authenticate("alice@a.cn", "wrong-password", f"10.0.1.{n}")
    for ip in ("10.0.1.0", "10.0.9.9"):
        with pytest.raises(service.LoginThrottled) as caught:
            service.authenticate("alice@a.cn", PASSWORD, ip)  # even the right password
        assert caught.value.status == 429
    assert service.authenticate("bob@b.cn", PASSWORD, "10.0.2.1").id == world.bob.id


def test_five_failures_from_one_ip_lock_that_ip_for_every_account(world):
    for n in range(5):  # five different (unknown) accounts from one address
        with pytest.raises(service.LoginRefused):
            service.authenticate(f"guess{n}@a.cn", "wrong-password", "10.0.3.3")
    with pytest.raises(service.LoginThrottled):
        service.authenticate("bob@b.cn", PASSWORD, "10.0.3.3")
    # Another account from another address still works; so does bob elsewhere.
    assert service.authenticate("alice@a.cn", PASSWORD, "10.0.4.4").id == world.alice.id
    assert service.authenticate("bob@b.cn", PASSWORD, "10.0.4.5").id == world.bob.id


def test_success_resets_the_account_counter(world):
    for n in range(4):
        with pytest.raises(service.LoginRefused):
            service.authenticate("alice@a.cn", "wrong-password", f"10.0.5.{n}")
    service.authenticate("alice@a.cn", PASSWORD, "10.0.6.1")
    for n in range(4):
        with pytest.raises(service.LoginRefused):
            service.authenticate("alice@a.cn", "wrong-password", f"10.0.7.{n}")
    assert service.authenticate("alice@a.cn", PASSWORD, "10.0.8.1").id == world.alice.id


# API tokens -----------------------------------------------------------------------

def test_token_issue_stores_only_a_digest(world):
    token, secret = service.issue_token(world.alice, "  ERP 对接 ")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(ApiToken, token.id)
    assert secret.startswith("wx_") and len(secret) > 40
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (stored.token_hash, stored.prefix) and secret.startswith(stored.prefix)
    assert stored.name == "ERP 对接"
    assert timedelta(days=29) < stored.expires_at - utcnow() <= timedelta(days=30)
    assert service.user_for_token(secret).id == world.alice.id
    assert service.user_for_token(secret + "x") is None


def test_revoked_token_stops_working_and_only_its_owner_revokes_it(world):
    token, secret = service.issue_token(world.alice, "t")
    db.session.commit()
    with pytest.raises(NotFound):
        service.revoke_token(world.bob, token.id)
    db.session.rollback()
    assert service.user_for_token(secret) is not None
    service.revoke_token(world.alice, token.id)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert service.user_for_token(secret) is None


def test_expired_token_and_inactive_user_are_refused(world):
    _, expired = service.issue_token(world.alice, "old", expires_at=utcnow() - timedelta(seconds=1))
    _, bobs = service.issue_token(world.bob, "bob")
    db.session.commit()
    assert service.user_for_token(expired) is None
    world.bob.active = False
    db.session.commit()
    assert service.user_for_token(bobs) is None


# Memberships ----------------------------------------------------------------------

def test_enterprise_admin_adds_registered_users_once(world):
    carol = make_user("carol@a.cn")
    service.add_member(world.alice, world.a, " Carol@A.cn ", MemberRole.READER)
    db.session.commit()
    assert members(world.a) == {"alice@a.cn": MemberRole.ADMIN, "carol@a.cn": MemberRole.READER}
    refusals = {
        "carol@a.cn": "already a member",
        "stranger@a.cn": "not registered",
        "reg@gov.cn": "regulators belong to no enterprise",
        "admin@wasteex.cn": "platform admins belong to no enterprise",
    }
    for email, why in refusals.items():
        with pytest.raises(ValidationFailed) as caught:
            service.add_member(world.alice, world.a, email, MemberRole.MEMBER)
        assert "email" in caught.value.fields, why
        db.session.rollback()
    assert carol.role_in(world.a.id) is MemberRole.READER
    assert len(members(world.a)) == 2


def test_only_admins_of_that_enterprise_manage_members(world):
    member = make_user("member@a.cn")
    add_member(member, world.a, MemberRole.MEMBER)
    carol = make_user("carol@a.cn")
    for actor, enterprise in ((member, world.a), (world.bob, world.a), (world.alice, world.b),
                              (world.regulator, world.a)):
        with pytest.raises(PermissionDenied):
            service.add_member(actor, enterprise, carol.email, MemberRole.MEMBER)
        db.session.rollback()
    bobs = world.b.memberships[0]
    with pytest.raises(PermissionDenied):
        service.remove_member(world.alice, world.b, bobs.id)
    # A's admin cannot remove B's membership by passing it along with enterprise A.
    with pytest.raises(NotFound):
        service.remove_member(world.alice, world.a, bobs.id)
    db.session.rollback()
    assert members(world.b) == {"bob@b.cn": MemberRole.ADMIN}
    assert carol.email not in members(world.a)


def test_the_last_admin_stays(world):
    alices = world.a.memberships[0]
    with pytest.raises(PermissionDenied):
        service.remove_member(world.alice, world.a, alices.id)
    db.session.rollback()
    carol = make_user("carol@a.cn")
    second = add_member(carol, world.a, MemberRole.ADMIN)
    service.remove_member(world.alice, world.a, alices.id)  # now allowed: carol remains admin
    db.session.commit()
    assert members(world.a) == {"carol@a.cn": MemberRole.ADMIN}
    with pytest.raises(PermissionDenied):
        service.remove_member(carol, world.a, second.id)
