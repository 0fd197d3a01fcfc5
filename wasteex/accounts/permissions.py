"""Object-level permission checks, called by services with the actor as a parameter.

Reading: members of an enterprise and read-all platform accounts (regulators,
platform admins). Writing business data: the enterprise's admins and members,
never readers, never regulators (they read everything and write nothing).
"""
from __future__ import annotations

from flask_babel import gettext as _

from wasteex.accounts.models import MemberRole, User
from wasteex.errors import PermissionDenied

WRITER_ROLES = (MemberRole.ADMIN, MemberRole.MEMBER)


def can_read_enterprise(actor: User, enterprise_id: int) -> bool:
    return actor.reads_everything or actor.role_in(enterprise_id) is not None


def can_write_enterprise(actor: User, enterprise_id: int) -> bool:
    return actor.role_in(enterprise_id) in WRITER_ROLES


def can_admin_enterprise(actor: User, enterprise_id: int) -> bool:
    return actor.is_platform_admin or actor.role_in(enterprise_id) is MemberRole.ADMIN


def require_enterprise_reader(actor: User, enterprise_id: int) -> None:
    if not can_read_enterprise(actor, enterprise_id):
        raise PermissionDenied(_("You are not a member of this enterprise."))


def require_enterprise_writer(actor: User, enterprise_id: int) -> None:
    if not can_write_enterprise(actor, enterprise_id):
        if actor.reads_everything:
            raise PermissionDenied(_("Regulators and platform admins do not write business data."))
        raise PermissionDenied(_("You cannot change this enterprise's data."))


def require_enterprise_admin(actor: User, enterprise_id: int) -> None:
    if not can_admin_enterprise(actor, enterprise_id):
        raise PermissionDenied(_("Only an admin of this enterprise can do that."))


def require_platform_admin(actor: User) -> None:
    if not actor.is_platform_admin:
        raise PermissionDenied(_("Only a platform admin can do that."))


def require_business_writer(actor: User) -> None:
    """Refuse read-all accounts before they create business data of any enterprise."""
    if actor.reads_everything:
        raise PermissionDenied(_("Regulators and platform admins do not write business data."))
