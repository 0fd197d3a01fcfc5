"""The catalog: readable by every signed-in user, correctable by platform admins."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from wasteex.catalog import service
from wasteex.catalog.forms import AttributeForm, CategoryForm, RouteForm
from wasteex.catalog.models import QualityAttribute, Route, WasteCategory
from wasteex.extensions import db
from wasteex.forms_support import form_data, perform

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

EDITORS = {
    "category": (WasteCategory, CategoryForm, service.update_category),
    "attribute": (QualityAttribute, AttributeForm, service.update_attribute),
    "route": (Route, RouteForm, service.update_route),
}


@bp.get("/")
@login_required
def index():
    return render_template("catalog/index.html", categories=service.categories(),
                           attributes=service.attributes(), routes=service.routes())


@bp.route("/<kind>/<int:item_id>", methods=["GET", "POST"])
@login_required
def edit(kind: str, item_id: int):
    if kind not in EDITORS:
        abort(404)
    if not current_user.is_platform_admin:
        abort(403)
    model, form_class, update = EDITORS[kind]
    item = db.get_or_404(model, item_id)
    form = form_class(obj=item)
    if kind == "route":
        form.sw_codes.choices = [(c.sw_code, f"{c.sw_code} {c.name_zh}") for c in service.categories()]
        if not form.is_submitted():
            form.sw_codes.data = [c.sw_code for c in item.categories]
    if perform(form, lambda: update(current_user, item.id, form_data(form)), _("Catalog corrected.")):
        return redirect(url_for(".index"))
    return render_template("catalog/edit.html", form=form, item=item, kind=kind)
