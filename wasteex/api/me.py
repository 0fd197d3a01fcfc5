"""GET /api/v1/me: who the caller is and which enterprises they belong to."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from wasteex.api.base import SECURITY, login_required_api
from wasteex.api.schemas import MeOut

PREFIX = "/me"
blp = Blueprint("api_me", __name__, description="The signed-in user")


@blp.route("")
class MeView(MethodView):
    decorators = [login_required_api]

    @blp.response(200, MeOut)
    @blp.doc(security=SECURITY)
    def get(self):
        """The caller's account and memberships."""
        return current_user
