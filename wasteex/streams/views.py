"""Waste streams of an enterprise, their quality values and lab reports; the inventory 附表1."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from wasteex.accounts.permissions import can_write_enterprise, require_enterprise_writer
from wasteex.enterprises import service as enterprises
from wasteex.forms_support import form_data, perform
from wasteex.ledger.rates import kg_to_tonnes_str
from wasteex.ledger.stats import StatsFilter, flow_by
from wasteex.streams import service, uploads
from wasteex.streams.forms import (
    GB_CLASS_LABELS,
    PHYSICAL_FORM_LABELS,
    LabReportForm,
    QualityForm,
    StreamEditForm,
    StreamForm,
    local_name,
)

bp = Blueprint("streams", __name__)
bp.add_app_template_filter(kg_to_tonnes_str, "tonnes")


@bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user."""


# Globals rather than a context processor, so that imported macros see them too.
bp.add_app_template_global(GB_CLASS_LABELS, "gb_class_labels")
bp.add_app_template_global(PHYSICAL_FORM_LABELS, "physical_form_labels")
bp.add_app_template_global(local_name, "local_name")


def _status() -> int:
    """A form sent back with errors answers 422, so clients and tests can tell."""
    return 422 if request.method == "POST" else 200


def _facilities(sites) -> list:
    return [f for site in sites for f in site.facilities]


def _stream_form(form_class, enterprise_id: int, **kwargs):
    sites = enterprises.sites_of(current_user, enterprise_id)
    return form_class(**kwargs).with_choices(sites, _facilities(sites))


# Streams of an enterprise ----------------------------------------------------

@bp.route("/enterprises/<int:enterprise_id>/streams", methods=["GET", "POST"])
def index(enterprise_id: int):
    enterprise = enterprises.get_enterprise(current_user, enterprise_id)
    streams = service.streams_of(current_user, enterprise.id)
    can_write = can_write_enterprise(current_user, enterprise.id)
    form = _stream_form(StreamForm, enterprise.id) if can_write else None
    if request.method == "POST":
        require_enterprise_writer(current_user, enterprise.id)
        stream = perform(form, lambda: service.register_stream(current_user, enterprise.id, form_data(form)),
                         _("Waste stream registered."))
        if stream:
            return redirect(url_for(".detail", stream_id=stream.id))
    return render_template("streams/index.html", enterprise=enterprise, streams=streams, form=form,
                           can_write=can_write, active_tab="streams"), _status()


@bp.get("/streams/<int:stream_id>")
def detail(stream_id: int):
    stream = service.get_stream(current_user, stream_id)
    return _render_detail(stream)


def _render_detail(stream, quality_form: QualityForm | None = None, report_form: LabReportForm | None = None):
    reports = service.lab_reports_of(stream)
    can_write = can_write_enterprise(current_user, stream.enterprise_id)
    if can_write:
        quality_form = quality_form or QualityForm(formdata=None, measured_on=date.today())
        quality_form.with_choices(reports)
        report_form = report_form or LabReportForm(formdata=None)
    return render_template("streams/detail.html", stream=stream, enterprise=stream.enterprise, reports=reports,
                           latest=sorted(stream.latest_quality().values(), key=lambda q: q.attribute.key),
                           history=stream.quality_values[:50], can_write=can_write,
                           quality_form=quality_form if can_write else None,
                           report_form=report_form if can_write else None, active_tab="streams")


@bp.route("/streams/<int:stream_id>/edit", methods=["GET", "POST"])
def edit(stream_id: int):
    stream = service.get_stream(current_user, stream_id)
    require_enterprise_writer(current_user, stream.enterprise_id)
    kwargs = {} if request.method == "POST" else {"data": StreamEditForm.initial(stream)}
    form = _stream_form(StreamEditForm, stream.enterprise_id, **kwargs)
    if perform(form, lambda: service.update_stream(current_user, stream.id, form_data(form)), _("Saved.")):
        return redirect(url_for(".detail", stream_id=stream.id))
    return render_template("streams/edit.html", form=form, stream=stream, enterprise=stream.enterprise,
                           active_tab="streams"), _status()


@bp.post("/streams/<int:stream_id>/quality")
def add_quality(stream_id: int):
    stream = service.get_stream(current_user, stream_id)
    require_enterprise_writer(current_user, stream.enterprise_id)
    form = QualityForm().with_choices(service.lab_reports_of(stream))
    recorded = perform(form, lambda: service.add_quality_value(
        current_user, stream.id, form.attribute.data, form.value.data, form.measured_on.data,
        form.lab_report_id.data or None), _("Quality value recorded."))
    if recorded:
        return redirect(url_for(".detail", stream_id=stream.id, _anchor="quality"))
    return _render_detail(stream, quality_form=form), 422


@bp.post("/streams/<int:stream_id>/lab-reports")
def upload_report(stream_id: int):
    stream = service.get_stream(current_user, stream_id)
    require_enterprise_writer(current_user, stream.enterprise_id)
    form = LabReportForm()
    def attach():
        upload = form.file.data
        return service.attach_lab_report(current_user, stream.id, upload.read(uploads.MAX_BYTES + 1),
                                         upload.filename or "", form.laboratory.data or "", form.report_date.data)

    if perform(form, attach, _("Lab report uploaded.")):
        return redirect(url_for(".detail", stream_id=stream.id, _anchor="reports"))
    return _render_detail(stream, report_form=form), 422


@bp.get("/lab-reports/<int:report_id>")
def download_report(report_id: int):
    report = service.get_lab_report(current_user, report_id)
    path = uploads.path_of(report.stored_name)
    if not path.is_file():
        abort(404)
    # The stored suffix comes from the sniffed content, never from the uploader's file name.
    name = (Path(report.original_name).stem or "report") + Path(report.stored_name).suffix
    response = send_file(path, mimetype=report.content_type, as_attachment=True, download_name=name,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# The annual generation inventory (附表1) -------------------------------------

def _year_arg() -> int:
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() else date.today().year
    return min(max(year, 2000), date.today().year + 1)


@bp.get("/enterprises/<int:enterprise_id>/inventory")
def inventory(enterprise_id: int):
    enterprise = enterprises.get_enterprise(current_user, enterprise_id)
    year = _year_arg()
    streams = [s for s in service.streams_of(current_user, enterprise.id) if s.created_at.year <= year]
    recorded = flow_by(StatsFilter(year=year, enterprise_ids=(enterprise.id,)), "stream")
    generated = {stream_key: totals.generated for (_eid, stream_key), totals in recorded.items()}
    years = list(range(date.today().year, date.today().year - 6, -1))
    return render_template("streams/inventory.html", enterprise=enterprise, streams=streams, year=year,
                           years=years, generated=generated, active_tab="inventory")
