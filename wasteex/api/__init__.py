"""The JSON API under /api/v1, one child blueprint per resource, documented by OpenAPI."""
from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    from wasteex.api import auth, catalog, docs, enterprises, ledger, market, me, sites, stats, streams
    from wasteex.api.base import guard_json_body
    from wasteex.extensions import api

    for module in (auth, me, enterprises, sites, catalog, streams, ledger, stats, market):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.PREFIX}")
    app.register_blueprint(docs.bp)
    app.before_request(guard_json_body)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "Personal API token"})
    api.spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session"})
