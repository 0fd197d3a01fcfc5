"""Users, their enterprise memberships and their personal API tokens."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, created_at, intpk, str120, str255, str_enum
from wasteex.extensions import db


class PlatformRole(enum.Enum):
    """Roles that reach across enterprises. Most users have none."""

    NONE = "none"
    REGULATOR = "regulator"
    ADMIN = "admin"


class MemberRole(enum.Enum):
    """A user's role inside one enterprise (Trackdéchets' company roles)."""

    ADMIN = "admin"
    MEMBER = "member"
    READER = "reader"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(db.Model):
    __tablename__ = "user"

    id: Mapped[intpk]
    email: Mapped[str255] = mapped_column(unique=True)
    name: Mapped[str120]
    password_hash: Mapped[str255]
    platform_role: Mapped[PlatformRole] = mapped_column(str_enum(PlatformRole), default=PlatformRole.NONE)
    locale: Mapped[str | None] = mapped_column(String(16))
    # Part of the Flask-Login id: rotating it revokes every session cookie
    # issued before (FIELD_NOTES.md: logout alone does not).
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # TOTP second factor (accounts/totp.py): the base32 secret encrypted with the app's key,
    # set when enrolment starts; enabled once a first code confirmed it. The last accepted
    # time step refuses a replayed code.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol ---------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    # Roles ------------------------------------------------------------------
    @property
    def is_regulator(self) -> bool:
        return self.platform_role is PlatformRole.REGULATOR

    @property
    def is_platform_admin(self) -> bool:
        return self.platform_role is PlatformRole.ADMIN

    @property
    def reads_everything(self) -> bool:
        return self.platform_role in (PlatformRole.REGULATOR, PlatformRole.ADMIN)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    def role_in(self, enterprise_id: int) -> MemberRole | None:
        for membership in self.memberships:
            if membership.enterprise_id == enterprise_id:
                return membership.role
        return None


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "enterprise_id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole))
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship(back_populates="memberships")
    enterprise: Mapped["Enterprise"] = relationship(back_populates="memberships")  # noqa: F821


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_token"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str120]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
