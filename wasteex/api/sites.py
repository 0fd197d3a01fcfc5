"""Sites of an enterprise and their MEE facilities."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from wasteex.api.base import SECURITY, login_required_api
from wasteex.api.schemas import FacilityIn, FacilityOut, FacilityPatch, SiteIn, SiteOut, SitePatch
from wasteex.enterprises import service
from wasteex.extensions import db

PREFIX = ""
blp = Blueprint("api_sites", __name__, description="Sites and facilities")


@blp.route("/enterprises/<id:enterprise_id>/sites")
class SiteList(MethodView):
    decorators = [login_required_api]

    @blp.response(200, SiteOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self, enterprise_id):
        """An enterprise's sites (members and regulators)."""
        return service.sites_of(current_user, enterprise_id)

    @blp.arguments(SiteIn)
    @blp.response(201, SiteOut)
    @blp.doc(security=SECURITY)
    def post(self, body, enterprise_id):
        """Add a site; its demonstration base is derived from the banner."""
        site = service.create_site(current_user, enterprise_id, body)
        db.session.commit()
        return site


@blp.route("/sites/<id:site_id>")
class SiteItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, SiteOut)
    @blp.doc(security=SECURITY)
    def get(self, site_id):
        """One site."""
        return service.get_site(current_user, site_id)

    @blp.arguments(SitePatch)
    @blp.response(200, SiteOut)
    @blp.doc(security=SECURITY)
    def patch(self, body, site_id):
        """Change a site."""
        site = service.update_site(current_user, site_id, body)
        db.session.commit()
        return site


@blp.route("/sites/<id:site_id>/facilities")
class FacilityList(MethodView):
    decorators = [login_required_api]

    @blp.response(200, FacilityOut(many=True))
    @blp.doc(security=SECURITY)
    def get(self, site_id):
        """The site's registered facilities."""
        return service.get_site(current_user, site_id).facilities

    @blp.arguments(FacilityIn)
    @blp.response(201, FacilityOut)
    @blp.doc(security=SECURITY)
    def post(self, body, site_id):
        """Register a generation, storage, self-utilisation or self-disposal facility."""
        facility = service.add_facility(current_user, site_id, body)
        db.session.commit()
        return facility


@blp.route("/facilities/<id:facility_id>")
class FacilityItem(MethodView):
    decorators = [login_required_api]

    @blp.response(200, FacilityOut)
    @blp.doc(security=SECURITY)
    def get(self, facility_id):
        """One facility."""
        return service.get_facility(current_user, facility_id)

    @blp.arguments(FacilityPatch)
    @blp.response(200, FacilityOut)
    @blp.doc(security=SECURITY)
    def patch(self, body, facility_id):
        """Retire or reactivate a facility (facilities are never deleted)."""
        facility = service.set_facility_active(current_user, facility_id, body["active"])
        db.session.commit()
        return facility
