"""The JSON API under /api/v1, one child blueprint per resource, documented by OpenAPI."""
from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    from wasteex.api import (
        auth, catalog, docs, enterprises, exchange, ledger, market, me, notifications, sites, stats, streams, transfers,
    )
    from wasteex.api import planning
    from wasteex.api import regulator
    from wasteex.api.base import (
        IdConverter, decimal_strings_are_strings, guard_json_body, null_means_null, refuse_anonymous_writes,
    )
    from wasteex.extensions import api

    app.url_map.converters["id"] = IdConverter  # before the routes that use <id:…> are added
    api.ma_plugin.converter.add_attribute_function(null_means_null)
    api.ma_plugin.converter.add_attribute_function(decimal_strings_are_strings)
    for module in (auth, me, enterprises, sites, catalog, streams, ledger, stats, market, exchange, notifications, transfers,
                   planning, regulator):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.PREFIX}")
    app.register_blueprint(docs.bp)
    app.before_request(refuse_anonymous_writes)
    app.before_request(guard_json_body)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "Personal API token"})
    api.spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session"})
