"""Marshmallow schemas of the API resources (input schemas are strict)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import marshmallow as ma
from marshmallow import validate

from wasteex.api.base import StrictBoolean, StrictSchema
from wasteex.enterprises.models import FacilityKind
from wasteex.geo import DIVISIONS


class Coordinate(ma.fields.Number):
    """Degrees, parsed exactly as Decimal from the JSON number, written as a number."""

    num_type = Decimal

    def _format_num(self, value):
        try:
            return Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise self.make_error("invalid") from exc

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else float(value)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._validated(value)
        if not number.is_finite():  # NaN would make the Range check raise (a 500)
            raise self.make_error("invalid")
        return number


class TokenRequest(StrictSchema):
    email = ma.fields.String(required=True, validate=validate.Length(max=255))
    password = ma.fields.String(required=True, validate=validate.Length(max=128))


class TokenResponse(ma.Schema):
    token = ma.fields.String(required=True)
    expires_at = ma.fields.DateTime(required=True)


class MembershipOut(ma.Schema):
    enterprise_id = ma.fields.Integer()
    enterprise_name = ma.fields.Function(lambda m: m.enterprise.name)
    role = ma.fields.Function(lambda m: m.role.value)


class MeOut(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    platform_role = ma.fields.Function(lambda u: u.platform_role.value)
    locale = ma.fields.String(allow_none=True)
    memberships = ma.fields.List(ma.fields.Nested(MembershipOut))


KINDS = ("producer", "utiliser", "carrier")


class EnterpriseOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    credit_code = ma.fields.String()
    kinds = ma.fields.List(ma.fields.String(validate=validate.OneOf(KINDS)))
    industry = ma.fields.String()
    address = ma.fields.String()
    division_code = ma.fields.String()
    # Contacts are private, as on the web page: members and read-all accounts only.
    contact_name = ma.fields.Method("_private_contact_name", allow_none=True)
    contact_phone = ma.fields.Method("_private_contact_phone", allow_none=True)
    status = ma.fields.Function(lambda e: e.status.value)
    rejection_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


    def _private_contact_name(self, enterprise):
        return enterprise.contact_name if _may_see_private(enterprise) else None

    def _private_contact_phone(self, enterprise):
        return enterprise.contact_phone if _may_see_private(enterprise) else None


def _may_see_private(enterprise) -> bool:
    from flask_login import current_user

    from wasteex.accounts.permissions import can_read_enterprise

    return current_user.is_authenticated and can_read_enterprise(current_user, enterprise.id)


class EnterpriseIn(StrictSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    credit_code = ma.fields.String(required=True, validate=validate.Length(max=18))
    kinds = ma.fields.List(ma.fields.String(validate=validate.OneOf(KINDS)), required=True,
                           validate=validate.Length(min=1, max=3))
    industry = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    address = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    division_code = ma.fields.String(required=True, validate=validate.OneOf(list(DIVISIONS)))
    contact_name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    contact_phone = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))

    @ma.post_load
    def kinds_to_flags(self, data, **kwargs):
        kinds = data.pop("kinds", None)
        if kinds is not None:
            for kind in KINDS:
                data[f"is_{kind}"] = kind in kinds
        return data


class EnterprisePatch(EnterpriseIn):
    """Every field optional; ``partial`` is a load option, not a Meta option."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class EnterpriseQuery(StrictSchema):
    q = ma.fields.String(load_default="", validate=validate.Length(max=100))
    status = ma.fields.String(load_default="", validate=validate.OneOf(["", "pending", "verified", "rejected"]))
    kind = ma.fields.String(load_default="", validate=validate.OneOf(["", *KINDS]))
    division = ma.fields.String(load_default="", validate=validate.OneOf(["", *DIVISIONS]))
    mine = ma.fields.Boolean(load_default=False)
    sort = ma.fields.String(load_default="name", validate=validate.OneOf(
        [p + k for k in ("name", "credit_code", "status", "division", "created") for p in ("", "-")]))
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema)),
        "page": ma.fields.Integer(), "per_page": ma.fields.Integer(),
        "total": ma.fields.Integer(), "pages": ma.fields.Integer(), "sort": ma.fields.String(),
    })


EnterprisePage = page_schema(EnterpriseOut, "EnterprisePage")


class RejectIn(StrictSchema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))


class MemberOut(ma.Schema):
    id = ma.fields.Integer()
    user_email = ma.fields.Function(lambda m: m.user.email)
    user_name = ma.fields.Function(lambda m: m.user.name)
    role = ma.fields.Function(lambda m: m.role.value)


class SiteOut(ma.Schema):
    id = ma.fields.Integer()
    enterprise_id = ma.fields.Integer()
    name = ma.fields.String()
    code = ma.fields.String()
    address = ma.fields.String()
    latitude = Coordinate()
    longitude = Coordinate()
    division_code = ma.fields.String()
    base = ma.fields.Function(lambda s: s.base.value)


class SiteIn(StrictSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))
    address = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    latitude = Coordinate(required=True, validate=validate.Range(-90, 90))
    longitude = Coordinate(required=True, validate=validate.Range(-180, 180))
    division_code = ma.fields.String(required=True, validate=validate.OneOf(list(DIVISIONS)))


class SitePatch(SiteIn):
    """Every field optional (see EnterprisePatch)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class FacilityOut(ma.Schema):
    id = ma.fields.Integer()
    site_id = ma.fields.Integer()
    kind = ma.fields.Function(lambda f: f.kind.value)
    code = ma.fields.String()
    name = ma.fields.String()
    responsible_person = ma.fields.String()
    active = ma.fields.Boolean()


class FacilityIn(StrictSchema):
    kind = ma.fields.String(required=True, validate=validate.OneOf([k.value for k in FacilityKind]))
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    responsible_person = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))


class FacilityPatch(StrictSchema):
    active = StrictBoolean(required=True)
