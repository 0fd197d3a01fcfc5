"""Waste streams of an enterprise and their quality values."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from wasteex.api.base import SECURITY, Id, Quantity, StrictBoolean, StrictSchema, login_required_api
from wasteex.extensions import db
from wasteex.streams import service
from wasteex.streams.models import GbClass, PhysicalForm

PREFIX = ""
blp = Blueprint("api_streams", __name__, description="Waste streams (废物流) and quality values")


class QualityOut(ma.Schema):
    attribute = ma.fields.Function(lambda q: q.attribute.key)
    unit = ma.fields.Function(lambda q: q.attribute.unit)
    value = ma.fields.Float()
    measured_on = ma.fields.Date()
    lab_report_id = ma.fields.Integer(allow_none=True)


class StreamOut(ma.Schema):
    id = ma.fields.Integer()
    enterprise_id = ma.fields.Integer()
    site_id = ma.fields.Integer()
    name = ma.fields.String()
    sw_code = ma.fields.String()
    code_2024 = ma.fields.String(allow_none=True)
    gb_class = ma.fields.Function(lambda s: s.gb_class.value)
    physical_form = ma.fields.Function(lambda s: s.physical_form.value)
    process_step = ma.fields.String()
    generating_facility_id = ma.fields.Integer(allow_none=True)
    storage_facility_id = ma.fields.Integer(allow_none=True)
    main_components = ma.fields.String()
    hazardous_components = ma.fields.String()
    expected_annual_tonnes = ma.fields.Function(lambda s: s.expected_annual_kg / 1000)
    planned_route_key = ma.fields.Function(lambda s: s.planned_route.key if s.planned_route else None)
    active = ma.fields.Boolean()
    latest_quality = ma.fields.Function(
        lambda s: {k: float(v.value) for k, v in s.latest_quality().items()})


class StreamIn(StrictSchema):
    site_id = Id(required=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    sw_code = ma.fields.String(required=True, validate=validate.Regexp(r"^SW\d{2}$"))
    code_2024 = ma.fields.String(validate=validate.Length(max=9))
    gb_class = ma.fields.String(required=True, validate=validate.OneOf([c.value for c in GbClass]))
    physical_form = ma.fields.String(required=True, validate=validate.OneOf([f.value for f in PhysicalForm]))
    process_step = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    generating_facility_id = Id(allow_none=True)
    storage_facility_id = Id(allow_none=True)
    main_components = ma.fields.String(validate=validate.Length(max=4000))
    hazardous_components = ma.fields.String(validate=validate.Length(max=4000))
    expected_annual_tonnes = Quantity(required=True, validate=validate.Range(min=0, max=10**9))
    planned_route_key = ma.fields.String(allow_none=True, validate=validate.Length(max=40))
    active = StrictBoolean()


class QualityIn(StrictSchema):
    attribute = ma.fields.String(required=True, validate=validate.Length(max=40))
    value = Quantity(required=True, validate=validate.Range(min=-10**9, max=10**9))  # NUMERIC(14, 4)
    measured_on = ma.fields.Date(required=True)
    lab_report_id = Id(allow_none=True)


@blp.route("/enterprises/<id:enterprise_id>/streams")
class StreamList(MethodView):
    decorators = [login_required_api]

    @blp.response(200, StreamOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self, enterprise_id):
        """The enterprise's waste streams (its members and regulators)."""
        return service.streams_of(current_user, enterprise_id)

    @blp.arguments(StreamIn)
    @blp.response(201, StreamOut)
    @blp.doc(security=SECURITY)
    def post(self, body, enterprise_id):
        """Register a waste stream at one of the enterprise's sites."""
        stream = service.register_stream(current_user, enterprise_id, body)
        db.session.commit()
        return stream


@blp.route("/streams/<id:stream_id>")
class StreamItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, StreamOut)
    @blp.doc(security=SECURITY)
    def get(self, stream_id):
        """One waste stream with its latest quality values."""
        return service.get_stream(current_user, stream_id)

    @blp.arguments(StreamIn)
    @blp.response(200, StreamOut)
    @blp.doc(security=SECURITY)
    def put(self, body, stream_id):
        """Replace a stream's description."""
        stream = service.update_stream(current_user, stream_id, body)
        db.session.commit()
        return stream


@blp.route("/streams/<id:stream_id>/quality")
class StreamQuality(MethodView):
    decorators = [login_required_api]

    @blp.arguments(QualityIn)
    @blp.response(201, QualityOut)
    @blp.doc(security=SECURITY)
    def post(self, body, stream_id):
        """Record a measured quality value (within the attribute's range)."""
        quality = service.add_quality_value(current_user, stream_id, body["attribute"], body["value"],
                                            body["measured_on"], body.get("lab_report_id"))
        db.session.commit()
        return quality
