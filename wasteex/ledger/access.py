"""Whose figures a user may see: regulators everything, enterprise users their own."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from wasteex.accounts.models import User
from wasteex.enterprises.models import Enterprise
from wasteex.errors import NotFound, PermissionDenied
from wasteex.extensions import db


def visible_enterprise_ids(actor: User, credit_code: str | None) -> tuple[int, ...] | None:
    """The enterprise ids a statistics query may cover (None: all of them)."""
    if credit_code:
        enterprise_id = db.session.scalar(select(Enterprise.id).where(Enterprise.credit_code == credit_code.upper()))
        if enterprise_id is None:
            raise NotFound(_("No enterprise has this credit code."))
        if not (actor.reads_everything or actor.role_in(enterprise_id)):
            raise PermissionDenied(_("You can only see your own enterprise's figures."))
        return (enterprise_id,)
    if actor.reads_everything:
        return None
    return tuple(m.enterprise_id for m in actor.memberships)
