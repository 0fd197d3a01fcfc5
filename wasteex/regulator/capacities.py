"""Declared utilisation capacities: what each utiliser site can take a year (business data).

The planner needs to know how much a utiliser *could* take, not only what
it asks for on the market today. Capacities are declared by the admins of
the utilising enterprise — the people who answer for the figure — and, as
business data, never written by regulators or platform admins. Every change
is audited against the enterprise.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wasteex.accounts.models import User
from wasteex.accounts.permissions import require_business_writer, require_enterprise_admin, require_enterprise_reader
from wasteex.audit.service import record
from wasteex.catalog.models import Route, RouteKind, WasteCategory
from wasteex.enterprises.models import Enterprise, Site
from wasteex.errors import NotFound, ValidationFailed
from wasteex.extensions import db
from wasteex.ledger.rates import kg_to_tonnes_str
from wasteex.market import terms
from wasteex.numbers import plain
from wasteex.regulator.models import UtilisationCapacity

def _enterprise(enterprise_id: int) -> Enterprise:
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_("No such enterprise."))
    return enterprise


def capacities_of(actor: User, enterprise_id: int) -> list[UtilisationCapacity]:
    """An enterprise's declared capacities, for its members and read-all accounts."""
    _enterprise(enterprise_id)
    require_enterprise_reader(actor, enterprise_id)
    return list(db.session.scalars(
        select(UtilisationCapacity).where(UtilisationCapacity.enterprise_id == enterprise_id)
        .options(selectinload(UtilisationCapacity.site), selectinload(UtilisationCapacity.route))
        .order_by(UtilisationCapacity.site_id, UtilisationCapacity.id)))


def require_capacity_admin(actor: User, enterprise_id: int) -> None:
    """Only the enterprise's own admins; a regulator or platform admin is refused (business data)."""
    require_business_writer(actor)
    require_enterprise_admin(actor, enterprise_id)


def get_capacity(actor: User, capacity_id: int) -> UtilisationCapacity:
    capacity = db.session.get(UtilisationCapacity, capacity_id)
    if capacity is None:
        raise NotFound(_("No such capacity."))
    require_enterprise_reader(actor, capacity.enterprise_id)
    return capacity


def _values(enterprise: Enterprise, data: dict) -> dict:
    if not enterprise.is_utiliser:
        raise ValidationFailed.on("site_id", _("Only an enterprise registered as a utiliser declares capacity."))
    raw_site = str(data.get("site_id") or "")
    site = db.session.get(Site, int(raw_site)) if raw_site.isdigit() else None
    if site is None or site.enterprise_id != enterprise.id:
        terms.fail("site_id", _("Choose one of your enterprise's sites."))
    route = db.session.scalar(select(Route).where(Route.key == str(data.get("route_key") or "")))
    if route is None or not route.active or route.kind is not RouteKind.UTILISATION:
        terms.fail("route_key", _("Choose a utilisation route."))
    codes = sorted({str(c).strip().upper() for c in (data.get("sw_codes") or []) if str(c).strip()})
    if not codes:
        terms.fail("sw_codes", _("Choose at least one waste code."))
    known = set(db.session.scalars(select(WasteCategory.sw_code).where(WasteCategory.active.is_(True))))
    if not set(codes) <= known:
        terms.fail("sw_codes", _("Unknown waste code."))
    misfits = [code for code in codes if not route.fits(code)]
    if misfits:
        terms.fail("sw_codes", _("The route does not fit %(codes)s.", codes=", ".join(misfits)))
    return {"site_id": site.id, "route_id": route.id, "sw_codes": codes,
            "kg_per_year": terms.positive_kg(data.get("tonnes_per_year"), "tonnes_per_year"),
            "max_km": terms.max_km(data.get("max_km"), required=True)}


def create_capacity(actor: User, enterprise_id: int, data: dict) -> UtilisationCapacity:
    enterprise = _enterprise(enterprise_id)
    require_capacity_admin(actor, enterprise_id)
    capacity = UtilisationCapacity(enterprise_id=enterprise_id, updated_by_id=actor.id, **_values(enterprise, data))
    db.session.add(capacity)
    db.session.flush()
    record(actor, "capacity.declared", capacity, enterprise_id=enterprise_id, codes=" ".join(capacity.sw_codes),
           kg_per_year=capacity.kg_per_year)
    return capacity


def update_capacity(actor: User, capacity_id: int, data: dict) -> UtilisationCapacity:
    capacity = get_capacity(actor, capacity_id)
    require_capacity_admin(actor, capacity.enterprise_id)
    for name, value in _values(capacity.enterprise, data).items():
        setattr(capacity, name, value)
    capacity.updated_by_id = actor.id
    db.session.flush()
    record(actor, "capacity.updated", capacity, enterprise_id=capacity.enterprise_id,
           codes=" ".join(capacity.sw_codes), kg_per_year=capacity.kg_per_year)
    return capacity


def delete_capacity(actor: User, capacity_id: int) -> None:
    capacity = get_capacity(actor, capacity_id)
    require_capacity_admin(actor, capacity.enterprise_id)
    record(actor, "capacity.withdrawn", capacity, enterprise_id=capacity.enterprise_id,
           kg_per_year=capacity.kg_per_year)
    db.session.delete(capacity)
    db.session.flush()


def capacity_input(capacity: UtilisationCapacity) -> dict:
    """The capacity as service input, to fill an edit form."""
    return {"site_id": str(capacity.site_id), "route_key": capacity.route.key, "sw_codes": list(capacity.sw_codes),
            "tonnes_per_year": plain(kg_to_tonnes_str(capacity.kg_per_year)),
            "max_km": str(capacity.max_km)}

