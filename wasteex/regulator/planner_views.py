"""The capacity-gap planner and its scenarios (regulators, platform admins), utilisers' declared
capacities (their enterprise admins), and the 以渣定产 pilot (regulators set its rules).

Views validate, call the service, commit once and redirect; who may do what is the services' call.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from wasteex.accounts.permissions import can_admin_enterprise
from wasteex.catalog import service as catalog
from wasteex.enterprises import service as enterprises
from wasteex.enterprises.models import Enterprise
from wasteex.extensions import db
from wasteex.forms_support import form_data, perform
from wasteex.market.forms import ActionForm
from wasteex.matching.runs import is_stale
from wasteex.regulator import capacities, planner, quota, scenarios
from wasteex.regulator.forms import (
    KIND_LABELS,
    SECTOR_LABELS,
    CapacityForm,
    KeywordForm,
    ScenarioForm,
    ThresholdForm,
    UtiliserForm,
)
from wasteex.streams.forms import local_name

bp = Blueprint("planner", __name__, url_prefix="/regulator/planner")
quota_bp = Blueprint("quota", __name__, url_prefix="/regulator/quota")
bp.add_app_template_global(SECTOR_LABELS, "sector_labels")
bp.add_app_template_global(KIND_LABELS, "anomaly_kind_labels")


@bp.app_template_filter("rate")
def rate(value: str | Decimal | None) -> str:
    """A stored rate (a decimal string in run results) as a percentage."""
    return "—" if value is None else f"{(Decimal(value) * 100).quantize(Decimal('0.1'))} %"


@bp.app_template_filter("whole_tonnes")
def whole_tonnes(kg: int | None) -> str:
    """Planning figures in whole tonnes with separators: a plan is not exact to the kilogram."""
    return "—" if kg is None else f"{round(kg / 1000):,}"


@bp.context_processor
def code_names() -> dict:
    """SW codes' names in the page's language, for the plan tables."""
    return {"code_names": {c.sw_code: local_name(c) for c in catalog.categories()}}


@bp.before_request
@quota_bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user."""


def _status() -> int:
    return 422 if request.method == "POST" else 200


def _producers() -> list[Enterprise]:
    return list(db.session.scalars(select(Enterprise).where(Enterprise.is_producer.is_(True))
                                   .order_by(Enterprise.name)))


# The plan ------------------------------------------------------------------------

@bp.get("/")
def index():
    return render_template("regulator/planner/index.html", run=scenarios.latest_baseline(current_user),
                           runs=scenarios.baseline_runs(current_user, limit=5),
                           scenarios=scenarios.scenarios(current_user), form=ActionForm(), stale=is_stale)


@bp.post("/runs")
def start():
    """Compute the baseline plan now (or queue it on Redis); the run's page shows the progress."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for(".index"))
    run = scenarios.start_run(current_user, None)
    db.session.commit()
    scenarios.dispatch(run)
    return redirect(url_for(".run", run_id=run.id))


@bp.get("/runs/<int:run_id>")
def run(run_id: int):
    run = scenarios.get_run(current_user, run_id)
    return render_template("regulator/planner/run.html", run=run, r=run, stale=is_stale)


@bp.get("/runs/<int:run_id>/progress")
def progress(run_id: int):
    """What the progress bar (static/js/run-progress.js) polls."""
    run = scenarios.get_run(current_user, run_id)
    return jsonify(status=run.status.value, progress=run.progress, stage=run.stage, error=run.error or None,
                   url=url_for(".run", run_id=run.id))


# Scenarios -----------------------------------------------------------------------

@bp.route("/scenarios/new", methods=["GET", "POST"])
def new_scenario():
    scenarios.require_planner(current_user)
    form = ScenarioForm().with_choices(_producers())
    scenario = perform(form, lambda: scenarios.create_scenario(current_user, form_data(form)), _("Scenario saved."))
    if scenario:
        return redirect(url_for(".scenario", scenario_id=scenario.id))
    return render_template("regulator/planner/scenario_form.html", form=form, scenario=None), _status()


@bp.get("/scenarios/<int:scenario_id>")
def scenario(scenario_id: int):
    found = scenarios.get_scenario(current_user, scenario_id)
    return render_template("regulator/planner/scenario.html", scenario=found, form=ActionForm(),
                           utiliser_form=UtiliserForm().with_choices(), stale=is_stale,
                           removed=_names(found.removed_enterprise_ids))


def _names(ids: list[int]) -> list[str]:
    return list(db.session.scalars(select(Enterprise.name).where(Enterprise.id.in_(ids or [-1]))
                                   .order_by(Enterprise.name)))


@bp.route("/scenarios/<int:scenario_id>/edit", methods=["GET", "POST"])
def edit_scenario(scenario_id: int):
    found = scenarios.get_scenario(current_user, scenario_id)
    initial = {} if request.method == "POST" else {"data": {
        **scenarios.scenario_input(found), "removed_enterprise_ids": [str(i) for i in found.removed_enterprise_ids]}}
    form = ScenarioForm(**initial).with_choices(_producers())
    if perform(form, lambda: scenarios.update_scenario(current_user, found.id, form_data(form)), _("Scenario saved.")):
        return redirect(url_for(".scenario", scenario_id=found.id))
    return render_template("regulator/planner/scenario_form.html", form=form, scenario=found), _status()


@bp.post("/scenarios/<int:scenario_id>/utilisers")
def add_utiliser(scenario_id: int):
    found = scenarios.get_scenario(current_user, scenario_id)
    form = UtiliserForm().with_choices()
    if perform(form, lambda: scenarios.add_utiliser(current_user, found.id, form_data(form)),
               _("Hypothetical utiliser added.")):
        return redirect(url_for(".scenario", scenario_id=found.id))
    return render_template("regulator/planner/scenario.html", scenario=found, form=ActionForm(), utiliser_form=form,
                           stale=is_stale, removed=_names(found.removed_enterprise_ids)), 422


@bp.post("/scenarios/<int:scenario_id>/utilisers/remove")
def remove_utiliser(scenario_id: int):
    found = scenarios.get_scenario(current_user, scenario_id)
    position = request.form.get("position", "")
    form = ActionForm()
    if form.validate_on_submit() and position.isdigit():
        scenarios.remove_utiliser(current_user, found.id, int(position))
        db.session.commit()
    return redirect(url_for(".scenario", scenario_id=found.id))


@bp.post("/scenarios/<int:scenario_id>/run")
def run_scenario(scenario_id: int):
    found = scenarios.get_scenario(current_user, scenario_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for(".scenario", scenario_id=found.id))
    run = scenarios.start_run(current_user, found.id)
    db.session.commit()
    scenarios.dispatch(run)
    return redirect(url_for(".run", run_id=run.id))


@bp.post("/scenarios/<int:scenario_id>/delete")
def delete_scenario(scenario_id: int):
    found = scenarios.get_scenario(current_user, scenario_id)
    if perform(ActionForm(), lambda: scenarios.delete_scenario(current_user, found.id), _("Scenario deleted.")):
        return redirect(url_for(".index"))
    return redirect(url_for(".scenario", scenario_id=found.id))


@bp.get("/compare")
def compare():
    ids = [int(i) for i in request.args.getlist("scenario") if i.isdigit() and int(i) < 2**31]
    chosen = scenarios.comparable(current_user, ids)
    runs = [s.latest_done_run for s in chosen]
    rows = planner.side_by_side(runs[0].result["baseline"], [r.result["plan"] for r in runs]) if runs else []
    return render_template("regulator/planner/compare.html", scenarios=chosen, runs=runs, rows=rows)


# Declared capacities (the utiliser's own admins) ----------------------------------

@bp.route("/enterprises/<int:enterprise_id>/capacities", methods=["GET", "POST"])
def capacities_of(enterprise_id: int):
    enterprise = enterprises.get_enterprise(current_user, enterprise_id)
    declared = capacities.capacities_of(current_user, enterprise.id)
    form = CapacityForm().with_choices(enterprise.sites)
    if perform(form, lambda: capacities.create_capacity(current_user, enterprise.id, form_data(form)),
               _("Capacity declared.")):
        return redirect(url_for(".capacities_of", enterprise_id=enterprise.id))
    return render_template("regulator/planner/capacities.html", enterprise=enterprise, capacities=declared,
                           form=form, action_form=ActionForm(),
                           can_admin=can_admin_enterprise(current_user, enterprise.id)
                           and not current_user.reads_everything), _status()


@bp.route("/capacities/<int:capacity_id>/edit", methods=["GET", "POST"])
def edit_capacity(capacity_id: int):
    capacity = capacities.get_capacity(current_user, capacity_id)
    capacities.require_capacity_admin(current_user, capacity.enterprise_id)
    initial = {} if request.method == "POST" else {"data": capacities.capacity_input(capacity)}
    form = CapacityForm(**initial).with_choices(capacity.enterprise.sites)
    if perform(form, lambda: capacities.update_capacity(current_user, capacity.id, form_data(form)),
               _("Capacity updated.")):
        return redirect(url_for(".capacities_of", enterprise_id=capacity.enterprise_id))
    return render_template("regulator/planner/capacity_form.html", capacity=capacity, form=form), _status()


@bp.post("/capacities/<int:capacity_id>/delete")
def delete_capacity(capacity_id: int):
    capacity = capacities.get_capacity(current_user, capacity_id)
    enterprise_id = capacity.enterprise_id
    perform(ActionForm(), lambda: capacities.delete_capacity(current_user, capacity.id), _("Capacity withdrawn."))
    return redirect(url_for(".capacities_of", enterprise_id=enterprise_id))


# 以渣定产 --------------------------------------------------------------------------

def _quota_page(threshold_form=None, keyword_form=None, status: int = 200):
    window, rows = quota.pilot(current_user, date.today())
    return render_template("regulator/quota/index.html", window=window, rows=rows,
                           in_force={s.value: t for s, t in quota.thresholds_on(date.today()).items()}, history=quota.threshold_history(current_user),
                           keywords=quota.keywords(), threshold_form=threshold_form or ThresholdForm(),
                           keyword_form=keyword_form or KeywordForm(), action_form=ActionForm()), status


@quota_bp.get("/")
def quota_index():
    return _quota_page()


@quota_bp.post("/thresholds")
def set_threshold():
    form = ThresholdForm()
    if perform(form, lambda: quota.set_threshold(current_user, form_data(form), date.today()), _("Threshold set.")):
        return redirect(url_for(".quota_index"))
    return _quota_page(threshold_form=form, status=422)


@quota_bp.post("/keywords")
def add_keyword():
    form = KeywordForm()
    if perform(form, lambda: quota.add_keyword(current_user, form_data(form)), _("Keyword added.")):
        return redirect(url_for(".quota_index"))
    return _quota_page(keyword_form=form, status=422)


@quota_bp.post("/keywords/<int:keyword_id>/delete")
def remove_keyword(keyword_id: int):
    perform(ActionForm(), lambda: quota.remove_keyword(current_user, keyword_id), _("Keyword removed."))
    return redirect(url_for(".quota_index"))
