"""The regulators' planning tools: capacity-gap runs and what-if scenarios, the anomaly worklist,
the 以渣定产 thresholds.

Scenarios and runs: regulators and platform admins. Anomalies: both read them,
regulators handle them. Thresholds: both read them, regulators set them.
Enterprise users are refused everywhere here.
"""
from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from wasteex.api.base import SECURITY, Id, Quantity, StrictSchema, login_required_api
from wasteex.api.schemas import page_schema
from wasteex.extensions import db
from wasteex.geo import Base
from wasteex.regulator import anomalies, quota, scenarios
from wasteex.regulator.models import AnomalyKind, AnomalyStatus, PilotSector

PREFIX = ""
blp = Blueprint("api_planning", __name__,
                description="Capacity-gap planner and scenarios, anomaly worklist, 以渣定产 thresholds (regulators)")


def _value(attribute: str):
    return ma.fields.Function(lambda obj: getattr(obj, attribute).value)


class UtiliserIn(StrictSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    lat = Quantity(required=True, validate=validate.Range(min=-90, max=90))
    lon = Quantity(required=True, validate=validate.Range(min=-180, max=180))
    sw_codes = ma.fields.List(ma.fields.String(validate=validate.Regexp(r"^SW\d{2}$")), required=True,
                              validate=validate.Length(min=1, max=20))
    tonnes_per_year = Quantity(required=True, metadata={"description": "At most 3 decimals"})
    max_km = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))


class ScenarioIn(StrictSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    utilisers = ma.fields.List(ma.fields.Nested(UtiliserIn), load_default=list,
                               validate=validate.Length(max=scenarios.MAX_UTILISERS),
                               metadata={"description": "Hypothetical utilisers added to the city"})
    removed_enterprise_ids = ma.fields.List(Id(), load_default=list,
                                            metadata={"description": "Producers taken out of the city"})


class ScenarioPatch(ScenarioIn):
    name = ma.fields.String(validate=validate.Length(min=1, max=120))
    description = ma.fields.String(validate=validate.Length(max=2000))
    utilisers = ma.fields.List(ma.fields.Nested(UtiliserIn), validate=validate.Length(max=scenarios.MAX_UTILISERS))
    removed_enterprise_ids = ma.fields.List(Id())


class UtiliserOut(ma.Schema):
    name = ma.fields.String()
    lat = ma.fields.String()
    lon = ma.fields.String()
    sw_codes = ma.fields.List(ma.fields.String())
    kg_per_year = ma.fields.Integer()
    max_km = ma.fields.Integer()


class PlanningRunOut(ma.Schema):
    id = ma.fields.Integer()
    scenario_id = ma.fields.Integer(allow_none=True)
    status = _value("status")
    progress = ma.fields.Integer()
    stage = ma.fields.String()
    error = ma.fields.String()
    baseline_rate = ma.fields.Decimal(as_string=True, allow_none=True,
                                      metadata={"description": "Attainable city rate without the scenario"})
    attainable_rate = ma.fields.Decimal(as_string=True, allow_none=True,
                                        metadata={"description": "Attainable city rate of this run"})
    seconds = ma.fields.Decimal(as_string=True, allow_none=True)
    created_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(allow_none=True)


class PlanningRunDetail(PlanningRunOut):
    result = ma.fields.Dict(allow_none=True, metadata={
        "description": "window; baseline and plan: figures per base × SW code, per base, per code and for the "
                       "city (kg, rates as decimal strings), candidate locations, utilisers used; scenario as run"})


class ScenarioOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    description = ma.fields.String()
    utilisers = ma.fields.List(ma.fields.Nested(UtiliserOut))
    removed_enterprise_ids = ma.fields.List(ma.fields.Integer())
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    latest_run = ma.fields.Function(lambda s: PlanningRunOut().dump(s.latest_done_run) if s.latest_done_run else None,
                                    metadata={"description": "The latest finished run, or null"})


class AnomalyEventOut(ma.Schema):
    from_status = ma.fields.Function(lambda e: e.from_status.value if e.from_status else None)
    to_status = _value("to_status")
    note = ma.fields.String()
    actor_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


class AnomalyOut(ma.Schema):
    id = ma.fields.Integer()
    kind = _value("kind")
    enterprise_id = ma.fields.Integer()
    stream_id = ma.fields.Integer(allow_none=True)
    period = ma.fields.String()
    evidence = ma.fields.Dict()
    status = _value("status")
    note = ma.fields.String()
    handled_by_id = ma.fields.Integer(allow_none=True)
    handled_at = ma.fields.DateTime(allow_none=True)
    first_seen_at = ma.fields.DateTime()
    last_seen_at = ma.fields.DateTime()


class AnomalyDetail(AnomalyOut):
    events = ma.fields.List(ma.fields.Nested(AnomalyEventOut))


AnomalyPage = page_schema(AnomalyOut, "AnomalyPage")


class AnomalyQuery(StrictSchema):
    status = ma.fields.String(load_default="active", validate=validate.OneOf(
        ["active", "", *(s.value for s in AnomalyStatus)]), metadata={"description": "active: open or under review"})
    kind = ma.fields.String(load_default="", validate=validate.OneOf(["", *(k.value for k in AnomalyKind)]))
    base = ma.fields.String(load_default="", validate=validate.OneOf(["", *(b.value for b in Base)]))
    q = ma.fields.String(load_default="", validate=validate.Length(max=100))
    period = ma.fields.String(load_default="", validate=validate.Regexp(r"^(\d{4}(-\d{2})?)?$"))
    sort = ma.fields.String(load_default="-seen", validate=validate.OneOf(
        [f"{sign}{key}" for key in anomalies.SORTS.columns for sign in ("", "-")]))
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class AnomalyPatch(StrictSchema):
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in AnomalyStatus]))
    note = ma.fields.String(load_default="", validate=validate.Length(max=anomalies.NOTE_LIMIT),
                            metadata={"description": "Required when closing"})


class ThresholdIn(StrictSchema):
    sector = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in PilotSector]))
    # 0 itself is refused by the service: an exclusive bound would not show in the OpenAPI document.
    threshold_pct = Quantity(required=True, validate=validate.Range(min=0, max=100),
                             metadata={"description": "Share of own waste utilised, in %, at most 2 decimals"})
    floor_factor = Quantity(required=True, validate=validate.Range(min=0, max=1),
                            metadata={"description": "The lowest quota factor, at most 4 decimals"})
    effective_from = ma.fields.Date(load_default=None, allow_none=True, metadata={"description": "Default: today"})
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))


class ThresholdOut(ma.Schema):
    id = ma.fields.Integer()
    sector = _value("sector")
    threshold = ma.fields.Decimal(as_string=True)
    floor_factor = ma.fields.Decimal(as_string=True)
    effective_from = ma.fields.Date()
    note = ma.fields.String()
    set_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


# Runs and scenarios --------------------------------------------------------------

def _started(run):
    db.session.commit()
    scenarios.dispatch(run)
    return run


@blp.route("/planning/runs")
class BaselineRuns(MethodView):
    decorators = [login_required_api]

    @blp.response(200, PlanningRunOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self):
        """The latest baseline runs (no scenario), newest first."""
        return scenarios.baseline_runs(current_user)

    @blp.response(202, PlanningRunOut)
    @blp.doc(security=SECURITY)
    def post(self):
        """Compute the baseline plan: queued on Redis when configured (poll it), otherwise run before answering."""
        return _started(scenarios.start_run(current_user, None))


@blp.route("/planning/runs/<id:run_id>")
class RunItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, PlanningRunDetail)
    @blp.doc(security=SECURITY)
    def get(self, run_id):
        """One run with its progress and, once done, its whole result."""
        return scenarios.get_run(current_user, run_id)


@blp.route("/planning/scenarios")
class ScenarioList(MethodView):
    decorators = [login_required_api]

    @blp.response(200, ScenarioOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self):
        """Every saved scenario, newest first, with its latest finished run."""
        return scenarios.scenarios(current_user)

    @blp.arguments(ScenarioIn)
    @blp.response(201, ScenarioOut)
    @blp.doc(security=SECURITY)
    def post(self, body):
        """Save a scenario: hypothetical utilisers and/or producers taken out."""
        scenario = scenarios.create_scenario(current_user, body)
        db.session.commit()
        return scenario


@blp.route("/planning/scenarios/<id:scenario_id>")
class ScenarioItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, ScenarioOut)
    @blp.doc(security=SECURITY)
    def get(self, scenario_id):
        return scenarios.get_scenario(current_user, scenario_id)

    @blp.arguments(ScenarioPatch)
    @blp.response(200, ScenarioOut)
    @blp.doc(security=SECURITY)
    def patch(self, body, scenario_id):
        """Change the fields sent (a list sent replaces the whole list)."""
        scenario = scenarios.update_scenario(current_user, scenario_id, body)
        db.session.commit()
        return scenario

    @blp.response(204)
    @blp.doc(security=SECURITY)
    def delete(self, scenario_id):
        """Delete the scenario and its runs."""
        scenarios.delete_scenario(current_user, scenario_id)
        db.session.commit()


@blp.route("/planning/scenarios/<id:scenario_id>/runs")
class ScenarioRuns(MethodView):
    decorators = [login_required_api]

    @blp.response(202, PlanningRunOut)
    @blp.doc(security=SECURITY)
    def post(self, scenario_id):
        """Run the scenario against the baseline (both computed on the same data)."""
        return _started(scenarios.start_run(current_user, scenario_id))


# Anomalies -----------------------------------------------------------------------

@blp.route("/anomalies")
class AnomalyList(MethodView):
    decorators = [login_required_api]

    @blp.arguments(AnomalyQuery, location="query")
    @blp.response(200, AnomalyPage)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """The worklist, filtered and paged (regulators and platform admins)."""
        flt = anomalies.AnomalyFilter(status=args["status"], kind=args["kind"], base=args["base"], q=args["q"],
                                      period=args["period"])
        return anomalies.worklist(current_user, flt, args["sort"], args["page"], args["per_page"])


@blp.route("/anomalies/<id:anomaly_id>")
class AnomalyItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, AnomalyDetail)
    @blp.doc(security=SECURITY)
    def get(self, anomaly_id):
        """One anomaly with its evidence and the history of its status."""
        return anomalies.get_anomaly(current_user, anomaly_id)

    @blp.arguments(AnomalyPatch)
    @blp.response(200, AnomalyDetail)
    @blp.alt_response(409, description="The anomaly cannot go to that status from its current one")
    @blp.doc(security=SECURITY)
    def patch(self, body, anomaly_id):
        """Handle an anomaly (regulators): under review, closed with a note, or open again."""
        anomaly = anomalies.change_status(current_user, anomaly_id, body["status"], body["note"])
        db.session.commit()
        return anomaly


# 以渣定产 ---------------------------------------------------------------------------

@blp.route("/quota/thresholds")
class Thresholds(MethodView):
    decorators = [login_required_api]

    @blp.response(200, ThresholdOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self):
        """Every threshold ever set, the latest effective first (the history)."""
        return quota.threshold_history(current_user)

    @blp.arguments(ThresholdIn)
    @blp.response(201, ThresholdOut)
    @blp.doc(security=SECURITY)
    def post(self, body):
        """Set a sector's threshold and floor from a date on (regulators); earlier rows stay as history."""
        row = quota.set_threshold(current_user, body, date.today())
        db.session.commit()
        return row
