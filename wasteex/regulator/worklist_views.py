"""The inspectors' anomaly worklist (regulators and platform admins read it; regulators handle it),
and ``flask anomalies scan``, which fills it (from cron or a systemd timer)."""
from __future__ import annotations

from datetime import date

import click
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from wasteex.extensions import db
from wasteex.forms_support import page_arg, perform
from wasteex.regulator import anomalies
from wasteex.regulator.forms import EVIDENCE_LABELS, KIND_LABELS, STATUS_LABELS, StatusForm
from wasteex.regulator.models import Anomaly
from wasteex.streams.forms import choice

bp = Blueprint("anomalies", __name__, url_prefix="/regulator/anomalies", cli_group="anomalies")
bp.add_app_template_global(STATUS_LABELS, "anomaly_status_labels")
bp.add_app_template_global(EVIDENCE_LABELS, "evidence_labels")


@bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user."""


@bp.get("/")
def index():
    args = request.args
    flt = anomalies.AnomalyFilter(status=args.get("status", "active"), kind=args.get("kind", ""),
                                  base=args.get("base", ""), q=args.get("q", "")[:100],
                                  period=args.get("period", "")[:7])
    page = anomalies.worklist(current_user, flt, args.get("sort"), page_arg(), current_app.config["PAGE_SIZE"])
    return render_template("regulator/anomalies/index.html", page=page, flt=flt, counts=anomalies.counts(current_user),
                           kinds=KIND_LABELS)


@bp.get("/<int:anomaly_id>")
def detail(anomaly_id: int):
    anomaly = anomalies.get_anomaly(current_user, anomaly_id)
    return render_template("regulator/anomalies/detail.html", anomaly=anomaly, form=_status_form(anomaly))


def _status_form(anomaly: Anomaly) -> StatusForm:
    """Only the statuses the anomaly can move to are offered."""
    form = StatusForm()
    form.status.choices = [choice(s.value, STATUS_LABELS[s.value]) for s in sorted(
        anomalies.TRANSITIONS[anomaly.status], key=lambda s: list(STATUS_LABELS).index(s.value))]
    return form


@bp.post("/<int:anomaly_id>/status")
def change_status(anomaly_id: int):
    anomaly = anomalies.get_anomaly(current_user, anomaly_id)
    anomalies.require_inspector(current_user)
    form = _status_form(anomaly)
    if perform(form, lambda: anomalies.change_status(current_user, anomaly.id, form.status.data, form.note.data),
               _("Anomaly updated.")):
        return redirect(url_for(".detail", anomaly_id=anomaly.id))
    return render_template("regulator/anomalies/detail.html", anomaly=anomaly, form=form), 422


@bp.cli.command("scan")
@click.option("--tolerance-kg", type=click.IntRange(min=0), default=0, show_default=True,
              help="A stream-month whose balance is off by at most this many kg is not an anomaly.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Ledger chains verified in parallel processes (default: one per CPU).")
def scan_command(tolerance_kg: int, workers: int | None) -> None:
    """Run every anomaly detector and update the worklist; safe to repeat (see wasteex.regulator.anomalies)."""
    report = anomalies.scan(date.today(), tolerance_kg, workers)
    db.session.commit()
    for kind, found in sorted(report.by_kind.items()):
        click.echo(f"{kind}: {found} found")
    click.echo(f"{report.created} new, {report.refreshed} still open, {report.reopened} reopened, "
               f"{report.closed} closed as no longer found")

