"""POST /api/v1/auth/token: e-mail and password for a bearer token (throttled like the login page)."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from wasteex.accounts import service
from wasteex.api.schemas import TokenRequest, TokenResponse
from wasteex.extensions import db

PREFIX = "/auth"
blp = Blueprint("api_auth", __name__, description="Authentication")


@blp.route("/token")
class TokenView(MethodView):
    @blp.arguments(TokenRequest)
    @blp.response(201, TokenResponse)
    @blp.alt_response(401, description="Wrong e-mail or password")
    @blp.alt_response(429, description="Too many failed attempts")
    def post(self, body):
        """Exchange credentials for a personal bearer token."""
        user = service.authenticate(body["email"], body["password"], request.remote_addr)
        token, secret = service.issue_token(user, "API login")
        db.session.commit()
        return {"token": secret, "expires_at": token.expires_at}
