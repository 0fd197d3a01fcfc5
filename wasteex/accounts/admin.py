"""Platform administration of users (platform admins only)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from wasteex.accounts import second_factor, service
from wasteex.accounts.models import PlatformRole
from wasteex.errors import ValidationFailed
from wasteex.extensions import db
from wasteex.forms_support import page_arg

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@login_required
def users():
    page = service.list_users(current_user, request.args.get("q", ""), request.args.get("sort"), page_arg(),
                              current_app.config["PAGE_SIZE"])
    return render_template("accounts/admin_users.html", page=page, q=request.args.get("q", ""),
                           roles=list(PlatformRole))


@bp.post("/users/<int:user_id>")
@login_required
def administer(user_id: int):
    active = {"1": True, "0": False}.get(request.form.get("active", ""))
    role = request.form.get("platform_role")
    try:
        service.administer_user(current_user, user_id, active=active,
                                platform_role=PlatformRole(role) if role in {r.value for r in PlatformRole} else None)
    except ValidationFailed as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("User updated; their sessions were signed out."), "success")
    return redirect(url_for(".users", q=request.args.get("q", "")))


@bp.post("/users/<int:user_id>/totp/reset")
@login_required
def reset_totp(user_id: int):
    """Lost phone: clear the user's TOTP; they set it up again at their next sign-in."""
    second_factor.reset(current_user._get_current_object(), user_id)  # refusals: the error handler
    db.session.commit()
    flash(_("Two-step verification reset; the user's sessions were signed out."), "success")
    return redirect(url_for(".users", q=request.args.get("q", "")))
