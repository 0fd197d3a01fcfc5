"""Account operations. They flush, never commit; the caller owns the transaction."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from wasteex.accounts.models import ApiToken, MemberRole, Membership, PlatformRole, User, new_session_token
from wasteex.accounts.passwords import hash_password, password_problem, verify_password
from wasteex import security_log
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.errors import NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.throttle import keys_for, login_throttle

TOKEN_PREFIX = "wx_"
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(email: str, name: str, password: str, locale: str | None = None,
                  platform_role: PlatformRole = PlatformRole.NONE) -> User:
    email = normalise_email(email)
    problem = password_problem(password, (email, name))
    if problem:
        raise ValidationFailed.on("password", str(problem))
    if find_user_by_email(email):
        raise ValidationFailed.on("email", _("An account with this e-mail already exists."))
    user = User(email=email, name=name.strip(), password_hash=hash_password(password, _hash_method()),
                locale=locale, platform_role=platform_role, session_token=new_session_token())
    db.session.add(user)
    record(user, "user.registered", user)
    return user


class LoginRefused(ValidationFailed):
    """Same message whether the account is unknown or the password wrong (ASVS 2.2)."""

    status, code = 401, "invalid_credentials"
    already_logged = True


class LoginThrottled(ValidationFailed):
    status, code = 429, "too_many_attempts"
    already_logged = True


def authenticate(email: str, password: str, ip: str | None) -> User:
    """Check a login, counting failures per account and per IP."""
    throttle = login_throttle()
    keys = keys_for(email, ip)
    if throttle.blocked(*keys):
        security_log.event("login.throttled", security_log.DENIED, account=security_log.fingerprint(email))
        raise LoginThrottled(_("Too many failed attempts. Please wait 15 minutes and try again."))
    user = find_user_by_email(email)
    if user is None or not user.active or not verify_password(user.password_hash, password):
        throttle.failed(*keys)
        # The typed e-mail only as a fingerprint: people type passwords into that field.
        security_log.event("login.failure", security_log.FAILURE, user_id=getattr(user, "id", None),
                           account=security_log.fingerprint(email),
                           reason="unknown_account" if user is None else "inactive" if not user.active
                           else "wrong_password")
        raise LoginRefused(_("Wrong e-mail or password."))
    throttle.clear(keys[0])
    security_log.event("login.success" if not user.totp_enabled else "login.password_ok", user=user)
    return user


def revoke_sessions(user: User) -> None:
    """Invalidate every session cookie issued to this user so far."""
    user.session_token = new_session_token()


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise ValidationFailed.on("current_password", _("The current password is wrong."))
    problem = password_problem(new, (user.email, user.name))
    if problem:
        raise ValidationFailed.on("new_password", str(problem))
    user.password_hash = hash_password(new, _hash_method())
    user.password_changed_at = utcnow()
    revoke_sessions(user)
    record(user, "user.password_changed", user)


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationFailed.on("locale", _("Unknown language."))
    user.locale = locale


# API tokens -----------------------------------------------------------------

def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, name: str, expires_at: datetime | None = None, *,
                second_factor: bool = False) -> tuple[ApiToken, str]:
    """Create a token; the clear secret is returned once and never stored.

    An account that needs a second factor gets tokens only from a session that passed TOTP
    (``second_factor=True``): a password alone, e.g. at ``POST /api/v1/auth/token``, is refused.
    """
    from wasteex.accounts.second_factor import second_factor_required

    if second_factor_required(user) and not second_factor:
        security_log.event("token.refused", security_log.DENIED, user=user, reason="second_factor_required")
        refusal = PermissionDenied(_("This account uses two-step verification: create API tokens on "
                                     "your account page."))
        refusal.already_logged = True
        raise refusal
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name.strip() or "API", token_hash=_token_digest(secret), prefix=secret[:10],
        expires_at=expires_at or utcnow() + current_app.config["API_TOKEN_LIFETIME"],
    )
    db.session.add(token)
    record(user, "token.issued", token, name=token.name)
    security_log.event("token.created", user=user, token_id=token.id)
    return token, secret


def user_for_token(secret: str) -> User | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(secret)))
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    if not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    return token.user


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
    ))


def revoke_token(user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("No such token."))
    token.revoked_at = token.revoked_at or utcnow()
    record(user, "token.revoked", token)
    security_log.event("token.revoked", user=user, token_id=token.id)
    return token


# Memberships ----------------------------------------------------------------

def add_member(actor: User, enterprise, email: str, role: MemberRole) -> Membership:
    """An enterprise admin (or platform admin) adds an existing user to the enterprise."""
    from wasteex.accounts.permissions import require_enterprise_admin

    require_enterprise_admin(actor, enterprise.id)
    user = find_user_by_email(email)
    if user is None:
        raise ValidationFailed.on("email", _("No user has this e-mail; ask them to register first."))
    if user.role_in(enterprise.id) is not None:
        raise ValidationFailed.on("email", _("This user is already a member."))
    if user.reads_everything:
        raise ValidationFailed.on("email", _("Regulators and platform admins cannot join an enterprise."))
    membership = Membership(user=user, enterprise=enterprise, role=role)
    db.session.add(membership)
    record(actor, "member.added", membership, enterprise_id=enterprise.id, role=role, user=user.email)
    return membership


def remove_member(actor: User, enterprise, membership_id: int) -> None:
    from wasteex.accounts.permissions import require_enterprise_admin

    require_enterprise_admin(actor, enterprise.id)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.enterprise_id != enterprise.id:
        raise NotFound(_("No such member."))
    admins = db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.enterprise_id == enterprise.id, Membership.role == MemberRole.ADMIN))
    if membership.role is MemberRole.ADMIN and admins <= 1:
        raise PermissionDenied(_("An enterprise must keep at least one admin."))
    record(actor, "member.removed", membership, enterprise_id=enterprise.id, user=membership.user.email)
    db.session.delete(membership)


# Platform administration -----------------------------------------------------


def list_users(actor: User, q: str, sort: str | None, page: int, per_page: int):
    from wasteex.accounts.permissions import require_platform_admin
    from wasteex.listing import Sorts, like_pattern, paginate

    require_platform_admin(actor)
    stmt = select(User)
    if q.strip():
        pattern = like_pattern(q.strip())
        stmt = stmt.where((User.email.ilike(pattern, escape="\\")) | (User.name.ilike(pattern, escape="\\")))
    sorts = Sorts({"email": User.email, "name": User.name, "created": User.created_at}, default="email")
    return paginate(stmt, sorts, sort, page, per_page)


def administer_user(actor: User, user_id: int, *, active: bool | None = None,
                    platform_role: PlatformRole | None = None) -> User:
    """Deactivate / reactivate a user or change their platform role; their sessions end."""
    from wasteex.accounts.permissions import require_platform_admin

    require_platform_admin(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.id == actor.id:
        raise PermissionDenied(_("You cannot change your own account here."))
    if platform_role is not None and platform_role is not PlatformRole.NONE and user.memberships:
        raise ValidationFailed.on("platform_role", _("Remove the user from their enterprises first: "
                                                     "regulators and platform admins belong to none."))
    if active is not None:
        user.active = active
    if platform_role is not None:
        user.platform_role = platform_role
    revoke_sessions(user)
    record(actor, "user.administered", user, active=user.active, platform_role=user.platform_role)
    return user
