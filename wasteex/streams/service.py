"""Waste streams, their quality values and lab reports; the annual inventory (附表1)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from wasteex.accounts.models import User
from wasteex.accounts.permissions import require_enterprise_reader, require_enterprise_writer
from wasteex.audit.service import record
from wasteex.catalog.models import QualityAttribute, Route, WasteCategory
from wasteex.database import utcnow
from wasteex.enterprises.models import Facility, FacilityKind, Site
from wasteex.errors import NotFound, ValidationFailed
from wasteex.extensions import db
from wasteex.ledger.rates import tonnes_to_kg
from wasteex.numbers import plain
from wasteex.streams import uploads
from wasteex.streams.models import GbClass, LabReport, PhysicalForm, QualityValue, WasteStream

STREAM_TEXT_FIELDS = {"name": 255, "process_step": 255, "main_components": 4000, "hazardous_components": 4000}


def _fail(name: str, message: str):
    raise ValidationFailed.on(name, message)


def _enum(enum_cls, raw, name: str):
    try:
        return enum_cls(raw)
    except ValueError:
        _fail(name, _("Choose one of the listed values."))


def _own_facility(enterprise_id: int, facility_id, kind: FacilityKind, name: str) -> int | None:
    if not facility_id:
        return None
    facility = db.session.get(Facility, int(facility_id))
    if facility is None or facility.site.enterprise_id != enterprise_id or facility.kind is not kind:
        _fail(name, _("Choose a facility of this enterprise of the right kind."))
    return facility.id


def _resolve(enterprise_id: int, data: dict) -> dict:
    site = db.session.get(Site, int(data.get("site_id") or 0))
    if site is None or site.enterprise_id != enterprise_id:
        _fail("site_id", _("Choose one of this enterprise's sites."))
    category = db.session.scalar(select(WasteCategory).where(WasteCategory.sw_code == str(data.get("sw_code", "")).upper()))
    if category is None or not category.active:
        _fail("sw_code", _("Unknown waste code."))
    out = {"site_id": site.id, "category_id": category.id,
           "gb_class": _enum(GbClass, data.get("gb_class"), "gb_class"),
           "physical_form": _enum(PhysicalForm, data.get("physical_form"), "physical_form")}
    for name, limit in STREAM_TEXT_FIELDS.items():
        value = str(data.get(name) or "").strip()
        if name in ("name", "process_step") and not value:
            _fail(name, _("This field is required."))
        if len(value) > limit:
            _fail(name, _("At most %(n)s characters.", n=limit))
        out[name] = value
    code_2024 = str(data.get("code_2024") or "").strip().upper()
    if code_2024 and not (len(code_2024) == 9 and code_2024[:6].isdigit() and code_2024[6] == "S"):
        _fail("code_2024", _("A 2024 code has 9 characters: 3-digit industry, 3-digit sequence, S and 2 digits."))
    out["code_2024"] = code_2024 or None
    try:
        out["expected_annual_kg"] = tonnes_to_kg(str(data.get("expected_annual_tonnes", "")))
    except (ValueError, TypeError):
        _fail("expected_annual_tonnes", _("Enter the expected tonnes per year (at most 3 decimals)."))
    out["generating_facility_id"] = _own_facility(enterprise_id, data.get("generating_facility_id"),
                                                  FacilityKind.GENERATION, "generating_facility_id")
    out["storage_facility_id"] = _own_facility(enterprise_id, data.get("storage_facility_id"),
                                               FacilityKind.STORAGE, "storage_facility_id")
    out["planned_route_id"] = _planned_route(data.get("planned_route_key"), category.sw_code)
    return out


def _planned_route(key, sw_code: str) -> int | None:
    if not key:
        return None
    route = db.session.scalar(select(Route).where(Route.key == key))
    if route is None or not route.fits(sw_code):
        _fail("planned_route_key", _("This route does not fit waste %(code)s.", code=sw_code))
    return route.id


def register_stream(actor: User, enterprise_id: int, data: dict) -> WasteStream:
    require_enterprise_writer(actor, enterprise_id)
    stream = WasteStream(enterprise_id=enterprise_id, **_resolve(enterprise_id, data))
    db.session.add(stream)
    record(actor, "stream.registered", stream, enterprise_id=enterprise_id, name=stream.name)
    return stream


def update_stream(actor: User, stream_id: int, data: dict) -> WasteStream:
    stream = get_stream(actor, stream_id)
    require_enterprise_writer(actor, stream.enterprise_id)
    for key, value in _resolve(stream.enterprise_id, data).items():
        setattr(stream, key, value)
    if "active" in data:
        stream.active = bool(data["active"])
    record(actor, "stream.updated", stream, enterprise_id=stream.enterprise_id)
    return stream


def get_stream(actor: User, stream_id: int) -> WasteStream:
    stream = db.session.get(WasteStream, stream_id)
    if stream is None or not (actor.reads_everything or actor.role_in(stream.enterprise_id)):
        raise NotFound(_("No such waste stream."))
    return stream


def streams_of(actor: User, enterprise_id: int, active_only: bool = False) -> list[WasteStream]:
    require_enterprise_reader(actor, enterprise_id)
    stmt = select(WasteStream).where(WasteStream.enterprise_id == enterprise_id)
    if active_only:
        stmt = stmt.where(WasteStream.active.is_(True))
    return list(db.session.scalars(stmt.order_by(WasteStream.id)))


def add_quality_value(actor: User, stream_id: int, attribute_key: str, value, measured_on: date | None,
                      lab_report_id: int | None = None) -> QualityValue:
    stream = get_stream(actor, stream_id)
    require_enterprise_writer(actor, stream.enterprise_id)
    attribute = db.session.scalar(select(QualityAttribute).where(QualityAttribute.key == attribute_key))
    if attribute is None:
        _fail("attribute", _("Unknown quality attribute."))
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        _fail("value", _("Enter a number."))
    if not number.is_finite() or not attribute.min_value <= number <= attribute.max_value:
        _fail("value", _("The value must lie between %(lo)s and %(hi)s %(unit)s.",
                         lo=plain(attribute.min_value), hi=plain(attribute.max_value), unit=attribute.unit))
    if measured_on is None or measured_on > date.today():
        _fail("measured_on", _("Enter the measurement date (not in the future)."))
    report = None
    if lab_report_id:
        report = db.session.get(LabReport, int(lab_report_id))
        if report is None or report.stream_id != stream.id:
            _fail("lab_report_id", _("Choose a lab report of this stream."))
    quality = QualityValue(stream=stream, attribute=attribute, value=number.quantize(Decimal("0.0001")),
                           measured_on=measured_on, lab_report=report)
    db.session.add(quality)
    record(actor, "stream.quality_added", quality, enterprise_id=stream.enterprise_id, key=attribute_key,
           value=str(number))
    return quality


UPLOAD_MESSAGES = {
    "empty": _l("The file is empty."),
    "too_large": _l("The file is larger than 10 MB."),
    "type": _l("Only PDF, PNG and JPEG files are accepted."),
}


def attach_lab_report(actor: User, stream_id: int, data: bytes, original_name: str, laboratory: str,
                      report_date: date | None) -> LabReport:
    stream = get_stream(actor, stream_id)
    require_enterprise_writer(actor, stream.enterprise_id)
    if not laboratory.strip():
        _fail("laboratory", _("Name the laboratory."))
    if report_date is None or report_date > date.today():
        _fail("report_date", _("Enter the report date (not in the future)."))
    try:
        stored = uploads.store(data)
    except uploads.UploadRefused as refused:
        _fail("file", str(UPLOAD_MESSAGES[str(refused)]))
    report = LabReport(enterprise_id=stream.enterprise_id, stream_id=stream.id, stored_name=stored.stored_name,
                       original_name=(original_name or "report")[-255:], content_type=stored.content_type,
                       size_bytes=stored.size_bytes, sha256=stored.sha256, laboratory=laboratory.strip()[:120],
                       report_date=report_date, uploaded_by_id=actor.id, uploaded_at=utcnow())
    db.session.add(report)
    record(actor, "stream.lab_report_attached", report, enterprise_id=stream.enterprise_id)
    return report


def get_lab_report(actor: User, report_id: int) -> LabReport:
    report = db.session.get(LabReport, report_id)
    if report is None or not (actor.reads_everything or actor.role_in(report.enterprise_id)):
        raise NotFound(_("No such lab report."))
    return report


def lab_reports_of(stream: WasteStream) -> list[LabReport]:
    return list(db.session.scalars(select(LabReport).where(LabReport.stream_id == stream.id)
                                   .order_by(LabReport.report_date.desc())))
