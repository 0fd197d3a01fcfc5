"""The ledger pages: entries, the chain, corrections, the flow summary 附表2, Excel, the regulator overview.

Views validate, call the service, commit once and redirect. The few read-only
queries that only these pages need (filters, correction history, the overview)
are small helpers at the bottom.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from wasteex.accounts.permissions import can_write_enterprise, require_enterprise_reader, require_enterprise_writer
from wasteex.enterprises import service as enterprises
from wasteex.enterprises.models import Enterprise
from wasteex.extensions import db
from wasteex.forms_support import page_arg, perform
from wasteex.geo import Base, base_of
from wasteex.ledger import chain_store, excel, importer, queries, service
from wasteex.ledger.forms import (
    FACILITY_KIND_LABELS,
    KIND_LABELS,
    SOURCE_LABELS,
    CorrectionForm,
    EntryForm,
    ImportForm,
    year_choices,
)
from wasteex.ledger.models import EntrySource, LedgerEntry
from wasteex.ledger.rates import kg_to_tonnes_str
from wasteex.ledger.stats import TARGET_RATE
from wasteex.listing import Sorts, paginate
from wasteex.streams import service as streams

bp = Blueprint("ledger", __name__)
bp.add_app_template_filter(kg_to_tonnes_str, "tonnes")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENTRY_SORTS = Sorts({"seq": LedgerEntry.seq, "period_date": LedgerEntry.period_date}, default="-seq")


@bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user."""


@bp.app_template_filter("percent")
def percent(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{(rate * 100).quantize(Decimal('0.01'))} %"


# Globals rather than a context processor, so that imported macros see them too.
bp.add_app_template_global(KIND_LABELS, "kind_labels")
bp.add_app_template_global(SOURCE_LABELS, "source_labels")
bp.add_app_template_global(FACILITY_KIND_LABELS, "facility_kind_labels")


def _int_arg(name: str, lo: int, hi: int) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and lo <= int(raw) <= hi else None


def _year_arg() -> int:
    return _int_arg("year", 2000, date.today().year + 1) or date.today().year


def _readable(enterprise_id: int) -> Enterprise:
    enterprise = enterprises.get_enterprise(current_user, enterprise_id)
    require_enterprise_reader(current_user, enterprise.id)
    return enterprise


def _entry_form(form_class, enterprise_id: int, **kwargs):
    sites = enterprises.sites_of(current_user, enterprise_id)
    facilities = [f for site in sites for f in site.facilities]
    return form_class(**kwargs).with_choices(streams.streams_of(current_user, enterprise_id), facilities)


def _xlsx(data: bytes, name: str):
    """An Excel download; send_file adds an ASCII fallback and the UTF-8 name (RFC 6266)."""
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)


# The enterprise's ledger -----------------------------------------------------

def _entry_filter() -> queries.EntryFilter:
    kind = request.args.get("kind", "")
    return queries.EntryFilter(year=_int_arg("year", 2000, 2100), month=_int_arg("month", 1, 12),
                               kind=kind if kind in KIND_LABELS else "", stream=_int_arg("stream", 1, 2**62))


@bp.get("/enterprises/<int:enterprise_id>/ledger")
def index(enterprise_id: int):
    enterprise = _readable(enterprise_id)
    form = None
    if can_write_enterprise(current_user, enterprise.id):
        form = _entry_form(EntryForm, enterprise.id, formdata=None, period_date=date.today())
    return _render_ledger(enterprise, form)


@bp.post("/enterprises/<int:enterprise_id>/ledger")
def record(enterprise_id: int):
    enterprise = _readable(enterprise_id)
    require_enterprise_writer(current_user, enterprise.id)
    form = _entry_form(EntryForm, enterprise.id)
    entry = perform(form, lambda: service.record_entry(current_user, enterprise.id, form.entry_input(),
                                                        EntrySource.FORM))
    if entry:
        flash(_("Entry %(seq)s recorded.", seq=entry.seq), "success")
        return redirect(url_for(".index", enterprise_id=enterprise.id))
    return _render_ledger(enterprise, form), 422


def _render_ledger(enterprise: Enterprise, form: EntryForm | None):
    flt = _entry_filter()
    page = paginate(queries.filtered(service.entries_of(current_user, enterprise.id), flt), ENTRY_SORTS,
                    request.args.get("sort"), page_arg(), current_app.config["PAGE_SIZE"])
    return render_template(
        "ledger/index.html", enterprise=enterprise, page=page, flt=flt, form=form,
        streams=streams.streams_of(current_user, enterprise.id), chain=chain_store.head(enterprise.id),
        corrected=queries.corrected_ids([e.id for e in page.items]), years=year_choices(),
        can_write=form is not None, active_tab="ledger")


@bp.get("/enterprises/<int:enterprise_id>/ledger/chain")
def chain(enterprise_id: int):
    enterprise = _readable(enterprise_id)
    report = chain_store.verify_enterprise(enterprise.id)
    broken = db.session.get(LedgerEntry, report.broken.id) if report.broken and report.broken.id else None
    return render_template("ledger/chain.html", enterprise=enterprise, report=report,
                           head=chain_store.head(enterprise.id), broken_entry=broken, active_tab="ledger")


# One entry and its corrections -------------------------------------------------

@bp.get("/ledger/entries/<int:entry_id>")
def entry(entry_id: int):
    item = service.get_entry(current_user, entry_id)
    form = None
    if can_write_enterprise(current_user, item.enterprise_id) and service.is_correctable(item):
        form = _entry_form(CorrectionForm, item.enterprise_id, formdata=None, data=EntryForm.initial(item))
    return _render_entry(item, form)


@bp.post("/ledger/entries/<int:entry_id>/correct")
def correct(entry_id: int):
    item = service.get_entry(current_user, entry_id)
    require_enterprise_writer(current_user, item.enterprise_id)
    form = _entry_form(CorrectionForm, item.enterprise_id)
    written = perform(form, lambda: service.correct_entry(
        current_user, item.id, form.reason.data or "", form.entry_input() if form.replace.data else None))
    if written:
        flash(_("Correction recorded as entries %(seqs)s.", seqs=", ".join(str(e.seq) for e in written)), "success")
        return redirect(url_for(".entry", entry_id=item.id))
    return _render_entry(item, form), 422


def _render_entry(item: LedgerEntry, form: CorrectionForm | None):
    return render_template("ledger/entry.html", entry=item, enterprise=db.session.get(Enterprise, item.enterprise_id),
                           history=queries.history(item), form=form, active_tab="ledger")


# The flow summary (附表2) -----------------------------------------------------

@bp.get("/enterprises/<int:enterprise_id>/ledger/summary")
def summary(enterprise_id: int):
    enterprise = _readable(enterprise_id)
    year, month = _year_arg(), _int_arg("month", 1, 12)
    groups = queries.flow_summary(current_user, enterprise.id, year, month)
    overall = queries.summary_total(groups, year, month, enterprise.id)
    return render_template("ledger/summary.html", enterprise=enterprise, year=year, month=month, groups=groups,
                           overall=overall, target=Decimal(TARGET_RATE), years=year_choices(),
                           active_tab="summary")


# Excel -------------------------------------------------------------------------

@bp.get("/ledger/import-template")
def import_template():
    return _xlsx(excel.template_workbook(), "wasteex-ledger-template-台账导入模板.xlsx")


@bp.route("/enterprises/<int:enterprise_id>/ledger/import", methods=["GET", "POST"])
def import_workbook(enterprise_id: int):
    enterprise = _readable(enterprise_id)
    require_enterprise_writer(current_user, enterprise.id)
    form = ImportForm()

    def run_import():
        rows = importer.read_workbook(form.file.data.read())
        return importer.import_rows(current_user, enterprise.id, rows, EntrySource.IMPORT)

    report = perform(form, run_import)
    return render_template("ledger/import.html", enterprise=enterprise, form=form, report=report,
                           active_tab="ledger")


@bp.get("/enterprises/<int:enterprise_id>/ledger/export")
def export(enterprise_id: int):
    enterprise = _readable(enterprise_id)
    year, month = _year_arg(), _int_arg("month", 1, 12)
    data = excel.export_workbook(current_user, [enterprise.id], year, month)
    period = f"{year}-{month:02d}" if month else str(year)
    return _xlsx(data, f"ledger-{enterprise.credit_code}-{period}-{enterprise.name}.xlsx")


# The regulator's overview ------------------------------------------------------

@bp.get("/ledger/")
def overview():
    q, base = request.args.get("q", "").strip(), request.args.get("base", "")
    base = base if base in {b.value for b in Base} else ""
    page = queries.overview_page(current_user, q, base, request.args.get("sort"), page_arg(),
                                 current_app.config["PAGE_SIZE"])
    ids = [e.id for e in page.items]
    return render_template("ledger/overview.html", page=page, q=q, base=base,
                           lasts=queries.last_entry_dates(ids),
                           chains={c.enterprise_id: c for c in queries.chains(ids)},
                           years=year_choices(), base_of=base_of)


@bp.get("/ledger/export")
def export_base():
    if not current_user.reads_everything:
        abort(403)
    raw = request.args.get("base", "")
    if raw not in {b.value for b in Base}:
        abort(400)
    base, year = Base(raw), _year_arg()
    data = excel.export_workbook(current_user, excel.base_enterprise_ids(base), year)
    return _xlsx(data, f"ledger-{base.value}-{year}-台账.xlsx")
