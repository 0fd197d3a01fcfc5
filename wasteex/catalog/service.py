"""Reading the catalog, and its correction by platform admins (a data change, audited)."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from wasteex.accounts.models import User
from wasteex.accounts.permissions import require_platform_admin
from wasteex.audit.service import record
from wasteex.catalog.models import QualityAttribute, Route, RouteKind, WasteCategory
from wasteex.errors import NotFound, ValidationFailed
from wasteex.extensions import db


def categories(active_only: bool = False) -> list[WasteCategory]:
    stmt = select(WasteCategory).order_by(WasteCategory.sw_code)
    if active_only:
        stmt = stmt.where(WasteCategory.active.is_(True))
    return list(db.session.scalars(stmt))


def attributes() -> list[QualityAttribute]:
    return list(db.session.scalars(select(QualityAttribute).order_by(QualityAttribute.key)))


def routes(active_only: bool = False) -> list[Route]:
    stmt = select(Route).order_by(Route.kind, Route.key)
    if active_only:
        stmt = stmt.where(Route.active.is_(True))
    return list(db.session.scalars(stmt))


def _get(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(_("No such catalog item."))
    return obj


def _names(data: dict) -> dict:
    out = {}
    for field in ("name_zh", "name_en"):
        value = str(data.get(field) or "").strip()
        if not value or len(value) > 120:
            raise ValidationFailed.on(field, _("Enter a name of at most 120 characters."))
        out[field] = value
    return out


def update_category(actor: User, category_id: int, data: dict) -> WasteCategory:
    require_platform_admin(actor)
    category = _get(WasteCategory, category_id)
    s_code = str(data.get("s_code") or "").strip().upper()
    if len(s_code) != 3 or not s_code.startswith("S") or not s_code[1:].isdigit():
        raise ValidationFailed.on("s_code", _("A 2024 category is S followed by two digits."))
    for key, value in {**_names(data), "s_code": s_code, "active": bool(data.get("active"))}.items():
        setattr(category, key, value)
    record(actor, "catalog.category_updated", category, sw_code=category.sw_code)
    return category


def update_attribute(actor: User, attribute_id: int, data: dict) -> QualityAttribute:
    require_platform_admin(actor)
    attribute = _get(QualityAttribute, attribute_id)
    low, high = data.get("min_value"), data.get("max_value")
    if not isinstance(low, Decimal) or not isinstance(high, Decimal) or low > high:
        raise ValidationFailed.on("max_value", _("The range needs a minimum not above the maximum."))
    unit = str(data.get("unit") or "").strip()[:16]
    for key, value in {**_names(data), "unit": unit, "min_value": low, "max_value": high}.items():
        setattr(attribute, key, value)
    record(actor, "catalog.attribute_updated", attribute, key=attribute.key)
    return attribute


def update_route(actor: User, route_id: int, data: dict) -> Route:
    require_platform_admin(actor)
    route = _get(Route, route_id)
    try:
        kind = RouteKind(data.get("kind"))
    except ValueError as exc:
        raise ValidationFailed.on("kind", _("Choose utilisation or disposal.")) from exc
    wanted = set(data.get("sw_codes") or [])
    chosen = [c for c in categories() if c.sw_code in wanted]
    if len(chosen) != len(wanted):
        raise ValidationFailed.on("sw_codes", _("Unknown waste code."))
    for key, value in {**_names(data), "kind": kind, "active": bool(data.get("active"))}.items():
        setattr(route, key, value)
    route.categories = chosen
    record(actor, "catalog.route_updated", route, key=route.key)
    return route
