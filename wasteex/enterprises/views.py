"""Enterprise directory, registration, verification, members, sites and facilities."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from wasteex.accounts import service as accounts
from wasteex.accounts.forms import MemberForm
from wasteex.accounts.models import MemberRole
from wasteex.accounts.permissions import can_admin_enterprise, can_read_enterprise, can_write_enterprise
from wasteex.enterprises import service
from wasteex.enterprises.forms import EnterpriseForm, FacilityForm, RejectForm, SiteForm
from wasteex.errors import ValidationFailed
from wasteex.extensions import db
from wasteex.forms_support import form_data, page_arg, perform

bp = Blueprint("enterprises", __name__, url_prefix="/enterprises")


@bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user."""


@bp.get("/")
def index():
    flt = service.EnterpriseFilter(
        q=request.args.get("q", ""), status=request.args.get("status", ""),
        kind=request.args.get("kind", ""), division=request.args.get("division", ""),
        mine=request.args.get("mine") == "1",
    )
    page = service.list_enterprises(current_user, flt, request.args.get("sort"), page_arg(),
                                    current_app.config["PAGE_SIZE"])
    return render_template("enterprises/index.html", page=page, flt=flt)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = EnterpriseForm()
    enterprise = perform(form, lambda: service.register_enterprise(current_user, form_data(form)),
                         _("Enterprise registered. A platform admin will verify it before it can trade."))
    if enterprise:
        return redirect(url_for(".detail", enterprise_id=enterprise.id))
    return render_template("enterprises/form.html", form=form, enterprise=None)


@bp.get("/<int:enterprise_id>")
def detail(enterprise_id: int):
    enterprise = service.get_enterprise(current_user, enterprise_id)
    private = can_read_enterprise(current_user, enterprise.id)
    return render_template(
        "enterprises/detail.html", enterprise=enterprise, private=private,
        sites=service.sites_of(current_user, enterprise.id) if private else [],
        members=service.members_of(current_user, enterprise.id) if private else [],
        can_write=can_write_enterprise(current_user, enterprise.id),
        can_admin=can_admin_enterprise(current_user, enterprise.id) and not current_user.reads_everything,
        member_form=MemberForm(), reject_form=RejectForm(),
    )


@bp.route("/<int:enterprise_id>/edit", methods=["GET", "POST"])
def edit(enterprise_id: int):
    enterprise = service.get_enterprise(current_user, enterprise_id)
    if not can_admin_enterprise(current_user, enterprise.id) or current_user.reads_everything:
        abort(403)
    form = EnterpriseForm(obj=enterprise)
    if perform(form, lambda: service.update_enterprise(current_user, enterprise.id, form_data(form)), _("Saved.")):
        return redirect(url_for(".detail", enterprise_id=enterprise.id))
    return render_template("enterprises/form.html", form=form, enterprise=enterprise)


@bp.post("/<int:enterprise_id>/verify")
def verify(enterprise_id: int):
    service.verify_enterprise(current_user, enterprise_id)
    db.session.commit()
    flash(_("Enterprise verified."), "success")
    return redirect(url_for(".detail", enterprise_id=enterprise_id))


@bp.post("/<int:enterprise_id>/reject")
def reject(enterprise_id: int):
    form = RejectForm()
    service.reject_enterprise(current_user, enterprise_id, form.reason.data or "")
    db.session.commit()
    flash(_("Enterprise rejected."), "info")
    return redirect(url_for(".detail", enterprise_id=enterprise_id))


@bp.post("/<int:enterprise_id>/members")
def add_member(enterprise_id: int):
    enterprise = service.get_enterprise(current_user, enterprise_id)
    form = MemberForm()
    if not form.validate_on_submit():
        flash(_("Enter the e-mail of a registered user."), "danger")
        return redirect(url_for(".detail", enterprise_id=enterprise_id))
    try:
        accounts.add_member(current_user, enterprise, form.email.data, MemberRole(form.role.data))
    except ValidationFailed as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("Member added."), "success")
    return redirect(url_for(".detail", enterprise_id=enterprise_id))


@bp.post("/<int:enterprise_id>/members/<int:membership_id>/remove")
def remove_member(enterprise_id: int, membership_id: int):
    enterprise = service.get_enterprise(current_user, enterprise_id)
    accounts.remove_member(current_user, enterprise, membership_id)
    db.session.commit()
    flash(_("Member removed."), "info")
    return redirect(url_for(".detail", enterprise_id=enterprise_id))


@bp.route("/<int:enterprise_id>/sites/new", methods=["GET", "POST"])
def new_site(enterprise_id: int):
    enterprise = service.get_enterprise(current_user, enterprise_id)
    if not can_write_enterprise(current_user, enterprise.id):
        abort(403)
    form = SiteForm()
    site = perform(form, lambda: service.create_site(current_user, enterprise.id, form_data(form, "place")),
                   _("Site added."))
    if site:
        return redirect(url_for(".site", site_id=site.id))
    return render_template("enterprises/site_form.html", form=form, enterprise=enterprise, site=None)


@bp.get("/sites/<int:site_id>")
def site(site_id: int):
    site = service.get_site(current_user, site_id)
    return render_template("enterprises/site.html", site=site, form=FacilityForm(),
                           can_write=can_write_enterprise(current_user, site.enterprise_id))


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
def edit_site(site_id: int):
    site = service.get_site(current_user, site_id)
    if not can_write_enterprise(current_user, site.enterprise_id):
        abort(403)
    form = SiteForm(obj=site)
    if perform(form, lambda: service.update_site(current_user, site.id, form_data(form, "place")), _("Saved.")):
        return redirect(url_for(".site", site_id=site.id))
    return render_template("enterprises/site_form.html", form=form, enterprise=site.enterprise, site=site)


@bp.post("/sites/<int:site_id>/facilities")
def add_facility(site_id: int):
    form = FacilityForm()
    if form.validate_on_submit():
        try:
            service.add_facility(current_user, site_id, form_data(form))
        except ValidationFailed as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("Facility registered."), "success")
    else:
        service.get_site(current_user, site_id)
        flash(_("Fill in every facility field."), "danger")
    return redirect(url_for(".site", site_id=site_id))


@bp.post("/facilities/<int:facility_id>/active")
def toggle_facility(facility_id: int):
    facility = service.set_facility_active(current_user, facility_id, request.form.get("active") == "1")
    db.session.commit()
    return redirect(url_for(".site", site_id=facility.site_id))
