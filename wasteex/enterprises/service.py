"""Enterprise, site and facility operations; permission checks live here.

Every function takes the acting user, flushes and returns; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import or_, select

from wasteex.accounts.models import MemberRole, Membership, User
from wasteex.accounts.permissions import (
    require_business_writer,
    require_enterprise_reader,
    require_enterprise_writer,
    require_platform_admin,
)
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Facility, FacilityKind, Site
from wasteex.enterprises.uscc import UsccError, validate_uscc
from wasteex.errors import NotFound, ValidationFailed
from wasteex.extensions import db
from wasteex.geo import DIVISIONS, base_of, valid_coordinates
from wasteex.listing import Page, Sorts, like_pattern, paginate

ENTERPRISE_FIELDS = ("name", "credit_code", "is_producer", "is_utiliser", "is_carrier", "industry",
                     "address", "division_code", "contact_name", "contact_phone")

ENTERPRISE_SORTS = Sorts(
    {"name": Enterprise.name, "credit_code": Enterprise.credit_code, "status": Enterprise.status,
     "division": Enterprise.division_code, "created": Enterprise.created_at},
    default="name",
)


def uscc_message(exc: UsccError) -> str:
    """The user-facing (translated) message for a refused credit code."""
    if exc.reason == "check_char":
        return _("The check character (last character) is wrong; it should be %(c)s.", c=exc.expected)
    if exc.reason == "org_check":
        return _("The organisation-code check character (17th) is wrong; it should be %(c)s.",
                 c=exc.expected)
    if exc.reason == "length":
        return _("A unified social credit code has exactly 18 characters.")
    if exc.reason == "division":
        return _("Characters 3–8 must be a valid administrative division code.")
    return _("The code contains characters that a unified social credit code cannot contain.")


def _clean_credit_code(code: str, exclude_id: int | None = None) -> str:
    try:
        code = validate_uscc(code)
    except UsccError as exc:
        raise ValidationFailed.on("credit_code", uscc_message(exc)) from exc
    clash = select(Enterprise.id).where(Enterprise.credit_code == code)
    if exclude_id is not None:
        clash = clash.where(Enterprise.id != exclude_id)
    if db.session.scalar(clash) is not None:
        raise ValidationFailed.on("credit_code", _("An enterprise with this credit code is already registered."))
    return code


def _check_enterprise_fields(data: dict) -> None:
    if data["division_code"] not in DIVISIONS:
        raise ValidationFailed.on("division_code", _("Choose a banner or district of Ordos."))
    if not (data.get("is_producer") or data.get("is_utiliser") or data.get("is_carrier")):
        raise ValidationFailed.on("is_producer", _("Choose at least one kind: producer, utiliser or carrier."))
    for field in ("name", "industry", "address", "contact_name", "contact_phone"):
        if not str(data.get(field) or "").strip():
            raise ValidationFailed.on(field, _("This field is required."))


def register_enterprise(actor: User, data: dict) -> Enterprise:
    """A user registers an enterprise; it starts pending and the user becomes its admin."""
    require_business_writer(actor)
    data = {k: data[k] for k in ENTERPRISE_FIELDS if k in data}
    _check_enterprise_fields(data)
    data["credit_code"] = _clean_credit_code(data["credit_code"])
    enterprise = Enterprise(**data, status=EnterpriseStatus.PENDING)
    db.session.add(enterprise)
    db.session.add(Membership(user=actor, enterprise=enterprise, role=MemberRole.ADMIN))
    record(actor, "enterprise.registered", enterprise, enterprise_id=None, name=enterprise.name)
    return enterprise


def update_enterprise(actor: User, enterprise_id: int, data: dict) -> Enterprise:
    enterprise = get_enterprise(actor, enterprise_id)
    from wasteex.accounts.permissions import require_enterprise_admin

    require_enterprise_admin(actor, enterprise.id)
    require_business_writer(actor)
    merged = {k: getattr(enterprise, k) for k in ENTERPRISE_FIELDS} | {
        k: data[k] for k in ENTERPRISE_FIELDS if k in data}
    _check_enterprise_fields(merged)
    if merged["credit_code"] != enterprise.credit_code:
        if enterprise.is_verified:
            raise ValidationFailed.on("credit_code", _("A verified enterprise's credit code cannot change."))
        merged["credit_code"] = _clean_credit_code(merged["credit_code"], exclude_id=enterprise.id)
    for key, value in merged.items():
        setattr(enterprise, key, value)
    record(actor, "enterprise.updated", enterprise, enterprise_id=enterprise.id)
    return enterprise


def get_enterprise(actor: User, enterprise_id: int) -> Enterprise:
    """Public profile: any signed-in user sees verified enterprises and their own."""
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_("No such enterprise."))
    if not enterprise.is_verified and not (actor.reads_everything or actor.role_in(enterprise.id)):
        raise NotFound(_("No such enterprise."))
    return enterprise


@dataclass
class EnterpriseFilter:
    q: str = ""
    status: str = ""
    kind: str = ""
    division: str = ""
    mine: bool = False


def list_enterprises(actor: User, flt: EnterpriseFilter, sort: str | None, page: int,
                     per_page: int) -> Page[Enterprise]:
    stmt = select(Enterprise)
    my_ids = [m.enterprise_id for m in actor.memberships]
    if flt.mine:
        stmt = stmt.where(Enterprise.id.in_(my_ids))
    elif not actor.reads_everything:
        stmt = stmt.where(or_(Enterprise.status == EnterpriseStatus.VERIFIED, Enterprise.id.in_(my_ids)))
    if flt.q.strip():
        pattern = like_pattern(flt.q.strip())
        stmt = stmt.where(or_(Enterprise.name.ilike(pattern, escape="\\"),
                              Enterprise.credit_code.ilike(pattern, escape="\\")))
    if flt.status in {s.value for s in EnterpriseStatus}:
        stmt = stmt.where(Enterprise.status == EnterpriseStatus(flt.status))
    kind_column = {"producer": Enterprise.is_producer, "utiliser": Enterprise.is_utiliser,
                   "carrier": Enterprise.is_carrier}.get(flt.kind)
    if kind_column is not None:
        stmt = stmt.where(kind_column.is_(True))
    if flt.division in DIVISIONS:
        stmt = stmt.where(Enterprise.division_code == flt.division)
    return paginate(stmt, ENTERPRISE_SORTS, sort, page, per_page)


def verify_enterprise(actor: User, enterprise_id: int) -> Enterprise:
    require_platform_admin(actor)
    enterprise = get_enterprise(actor, enterprise_id)
    enterprise.status = EnterpriseStatus.VERIFIED
    enterprise.rejection_reason = None
    enterprise.reviewed_by_id, enterprise.reviewed_at = actor.id, utcnow()
    record(actor, "enterprise.verified", enterprise, enterprise_id=enterprise.id)
    return enterprise


def reject_enterprise(actor: User, enterprise_id: int, reason: str) -> Enterprise:
    require_platform_admin(actor)
    if not reason.strip():
        raise ValidationFailed.on("reason", _("Say why the enterprise is rejected."))
    enterprise = get_enterprise(actor, enterprise_id)
    enterprise.status = EnterpriseStatus.REJECTED
    enterprise.rejection_reason = reason.strip()
    enterprise.reviewed_by_id, enterprise.reviewed_at = actor.id, utcnow()
    record(actor, "enterprise.rejected", enterprise, enterprise_id=enterprise.id, reason=reason.strip())
    return enterprise


def members_of(actor: User, enterprise_id: int) -> list[Membership]:
    require_enterprise_reader(actor, enterprise_id)
    return list(db.session.scalars(select(Membership).where(Membership.enterprise_id == enterprise_id)
                                   .order_by(Membership.id)))


# Sites ----------------------------------------------------------------------

SITE_FIELDS = ("name", "code", "address", "latitude", "longitude", "division_code")


def _check_site_fields(data: dict) -> None:
    for field in ("name", "code", "address"):
        if not str(data.get(field) or "").strip():
            raise ValidationFailed.on(field, _("This field is required."))
    if data["division_code"] not in DIVISIONS:
        raise ValidationFailed.on("division_code", _("Choose a banner or district of Ordos."))
    for field in ("latitude", "longitude"):
        if not isinstance(data.get(field), Decimal) or not data[field].is_finite():
            raise ValidationFailed.on(field, _("Enter a number."))
    if not -90 <= data["latitude"] <= 90:
        raise ValidationFailed.on("latitude", _("Latitude must be between -90 and 90."))
    if not valid_coordinates(data["latitude"], data["longitude"]):
        raise ValidationFailed.on("longitude", _("Longitude must be between -180 and 180."))


def _site_code_taken(enterprise_id: int, code: str, exclude_id: int | None) -> bool:
    stmt = select(Site.id).where(Site.enterprise_id == enterprise_id, Site.code == code)
    if exclude_id:
        stmt = stmt.where(Site.id != exclude_id)
    return db.session.scalar(stmt) is not None


def _apply_site(site: Site, data: dict) -> None:
    data = dict(data)
    data["latitude"] = data["latitude"].quantize(Decimal("0.000001"))
    data["longitude"] = data["longitude"].quantize(Decimal("0.000001"))
    for key in SITE_FIELDS:
        setattr(site, key, data[key].strip() if isinstance(data[key], str) else data[key])
    site.base = base_of(site.division_code)


def create_site(actor: User, enterprise_id: int, data: dict) -> Site:
    require_enterprise_writer(actor, enterprise_id)
    data = {k: data.get(k) for k in SITE_FIELDS}
    _check_site_fields(data)
    if _site_code_taken(enterprise_id, data["code"].strip(), None):
        raise ValidationFailed.on("code", _("This enterprise already has a site with this code."))
    site = Site(enterprise_id=enterprise_id)
    _apply_site(site, data)
    db.session.add(site)
    record(actor, "site.created", site, enterprise_id=enterprise_id, code=site.code)
    return site


def get_site(actor: User, site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or not (actor.reads_everything or actor.role_in(site.enterprise_id)):
        raise NotFound(_("No such site."))
    return site


def update_site(actor: User, site_id: int, data: dict) -> Site:
    site = get_site(actor, site_id)
    require_enterprise_writer(actor, site.enterprise_id)
    merged = {k: getattr(site, k) for k in SITE_FIELDS} | {k: data[k] for k in SITE_FIELDS if k in data}
    _check_site_fields(merged)
    if _site_code_taken(site.enterprise_id, merged["code"].strip(), site.id):
        raise ValidationFailed.on("code", _("This enterprise already has a site with this code."))
    _apply_site(site, merged)
    record(actor, "site.updated", site, enterprise_id=site.enterprise_id)
    return site


def sites_of(actor: User, enterprise_id: int) -> list[Site]:
    require_enterprise_reader(actor, enterprise_id)
    return list(db.session.scalars(select(Site).where(Site.enterprise_id == enterprise_id).order_by(Site.id)))


# Facilities -----------------------------------------------------------------

def add_facility(actor: User, site_id: int, data: dict) -> Facility:
    site = get_site(actor, site_id)
    require_enterprise_writer(actor, site.enterprise_id)
    try:
        kind = FacilityKind(data.get("kind"))
    except ValueError as exc:
        raise ValidationFailed.on("kind", _("Choose a facility kind.")) from exc
    for field in ("code", "name", "responsible_person"):
        if not str(data.get(field) or "").strip():
            raise ValidationFailed.on(field, _("This field is required."))
    code = data["code"].strip()
    if any(f.code == code for f in site.facilities):
        raise ValidationFailed.on("code", _("This site already has a facility with this code."))
    facility = Facility(site=site, kind=kind, code=code, name=data["name"].strip(),
                        responsible_person=data["responsible_person"].strip())
    db.session.add(facility)
    record(actor, "facility.added", facility, enterprise_id=site.enterprise_id, code=code)
    return facility


def get_facility(actor: User, facility_id: int) -> Facility:
    facility = db.session.get(Facility, facility_id)
    if facility is None or not (actor.reads_everything or actor.role_in(facility.site.enterprise_id)):
        raise NotFound(_("No such facility."))
    return facility


def set_facility_active(actor: User, facility_id: int, active: bool) -> Facility:
    """Facilities are retired, not deleted: ledger records keep pointing at them."""
    facility = get_facility(actor, facility_id)
    require_enterprise_writer(actor, facility.site.enterprise_id)
    facility.active = active
    record(actor, "facility.retired" if not active else "facility.reactivated", facility,
           enterprise_id=facility.site.enterprise_id)
    return facility
