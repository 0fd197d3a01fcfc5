"""Enterprises: directory, registration, update, verification and members."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from wasteex.api.base import SECURITY, login_required_api
from wasteex.api.schemas import (
    EnterpriseIn, EnterpriseOut, EnterprisePage, EnterprisePatch, EnterpriseQuery, MemberOut, RejectIn,
)
from wasteex.enterprises import service
from wasteex.extensions import db

PREFIX = "/enterprises"
blp = Blueprint("api_enterprises", __name__, description="Enterprises (产废/利用/运输单位)")


@blp.route("")
class EnterpriseList(MethodView):
    decorators = [login_required_api]

    @blp.arguments(EnterpriseQuery, location="query")
    @blp.response(200, EnterprisePage)
    @blp.doc(security=SECURITY)
    def get(self, args):
        """Verified enterprises and the caller's own; regulators see all."""
        flt = service.EnterpriseFilter(q=args["q"], status=args["status"], kind=args["kind"],
                                       division=args["division"], mine=args["mine"])
        page = service.list_enterprises(current_user, flt, args["sort"], args["page"], args["per_page"])
        return page

    @blp.arguments(EnterpriseIn)
    @blp.response(201, EnterpriseOut)
    @blp.doc(security=SECURITY)
    def post(self, body):
        """Register an enterprise; it starts pending and the caller becomes its admin."""
        enterprise = service.register_enterprise(current_user, body)
        db.session.commit()
        return enterprise


@blp.route("/<id:enterprise_id>")
class EnterpriseItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, EnterpriseOut)
    @blp.doc(security=SECURITY)
    def get(self, enterprise_id):
        """One enterprise's public profile."""
        return service.get_enterprise(current_user, enterprise_id)

    @blp.arguments(EnterprisePatch)
    @blp.response(200, EnterpriseOut)
    @blp.doc(security=SECURITY)
    def patch(self, body, enterprise_id):
        """Change an enterprise's details (its admins only)."""
        enterprise = service.update_enterprise(current_user, enterprise_id, body)
        db.session.commit()
        return enterprise


@blp.route("/<id:enterprise_id>/verify")
class EnterpriseVerify(MethodView):
    decorators = [login_required_api]

    @blp.response(200, EnterpriseOut)
    @blp.doc(security=SECURITY)
    def post(self, enterprise_id):
        """Verify a pending enterprise (platform admins only)."""
        enterprise = service.verify_enterprise(current_user, enterprise_id)
        db.session.commit()
        return enterprise


@blp.route("/<id:enterprise_id>/reject")
class EnterpriseReject(MethodView):
    decorators = [login_required_api]

    @blp.arguments(RejectIn)
    @blp.response(200, EnterpriseOut)
    @blp.doc(security=SECURITY)
    def post(self, body, enterprise_id):
        """Reject an enterprise with a reason (platform admins only)."""
        enterprise = service.reject_enterprise(current_user, enterprise_id, body["reason"])
        db.session.commit()
        return enterprise


@blp.route("/<id:enterprise_id>/members")
class EnterpriseMembers(MethodView):
    decorators = [login_required_api]

    @blp.response(200, MemberOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self, enterprise_id):
        """The enterprise's members (members and regulators only)."""
        return service.members_of(current_user, enterprise_id)
