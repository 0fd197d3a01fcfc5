"""City-wide matcher runs: start one, watch its progress, read its proposals (admins, regulators)."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required

from wasteex.market.forms import ActionForm
from wasteex.extensions import db
from wasteex.matching import jobs, runs

bp = Blueprint("matching", __name__, url_prefix="/matching")


@bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user."""


@bp.get("/runs")
def index():
    return render_template("matching/runs.html", runs=runs.runs_for(current_user), form=ActionForm(),
                           active=runs.active_run(), stale=runs.is_stale)


@bp.post("/runs")
def start():
    """Queue a run and hand it to RQ (or run it now); the run's page shows the progress."""
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for(".index"))
    run = runs.start(current_user)
    db.session.commit()
    jobs.dispatch(run)
    return redirect(url_for(".run", run_id=run.id))


@bp.get("/runs/<int:run_id>")
def run(run_id: int):
    return render_template("matching/run.html", run=runs.get_run(current_user, run_id), stale=runs.is_stale)


@bp.get("/runs/<int:run_id>/progress")
def progress(run_id: int):
    """What the progress bar polls."""
    run = runs.get_run(current_user, run_id)
    return jsonify(status=run.status.value, progress=run.progress, stage=run.stage, error=run.error or None,
                   url=url_for(".run", run_id=run.id))
