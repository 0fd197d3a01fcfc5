"""GET /api/v1/catalog: waste codes, quality attributes and routes (what the other endpoints accept)."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from wasteex.api.base import SECURITY, login_required_api
from wasteex.catalog import service

PREFIX = "/catalog"
blp = Blueprint("api_catalog", __name__, description="Catalog of waste codes, attributes and routes")


class CategoryOut(ma.Schema):
    sw_code = ma.fields.String()
    s_code = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    active = ma.fields.Boolean()


class AttributeOut(ma.Schema):
    key = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    unit = ma.fields.String()
    min_value = ma.fields.Float()
    max_value = ma.fields.Float()


class RouteOut(ma.Schema):
    key = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    kind = ma.fields.Function(lambda r: r.kind.value)
    sw_codes = ma.fields.Function(lambda r: [c.sw_code for c in r.categories])
    active = ma.fields.Boolean()


class CatalogOut(ma.Schema):
    categories = ma.fields.List(ma.fields.Nested(CategoryOut))
    attributes = ma.fields.List(ma.fields.Nested(AttributeOut))
    routes = ma.fields.List(ma.fields.Nested(RouteOut))


@blp.route("")
class Catalog(MethodView):
    decorators = [login_required_api]

    @blp.response(200, CatalogOut)
    @blp.doc(security=SECURITY)
    def get(self):
        """The whole catalog; an empty ``sw_codes`` list means the route fits any waste."""
        return {"categories": service.categories(), "attributes": service.attributes(), "routes": service.routes()}
