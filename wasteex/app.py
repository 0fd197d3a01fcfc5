"""The application factory; it reads like a table of contents."""
from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from wasteex import paths

ENV_PREFIX = "WASTEEX_"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("WASTEEX_INSTANCE_PATH", str(paths.DEFAULT_INSTANCE_DIR)),
        template_folder=str(paths.TEMPLATES_DIR),
        static_folder=str(paths.STATIC_DIR),
    )
    configure(app, test_config)
    trust_proxies(app)
    configure_logging(app)
    register_extensions(app)
    register_models()
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_request_hooks(app)
    register_jinja_globals(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, read the client's address and scheme from them."""
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _load_config_module():
    spec = importlib.util.spec_from_file_location("wasteex_config", paths.CONFIG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _coerce(current: Any, raw: str) -> Any:
    """Convert an environment string to the type of the default it overrides."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    return raw


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    module = _load_config_module()
    env = os.environ.get("WASTEEX_ENV", "testing" if test_config else "development")
    if env not in module.CONFIGS:
        raise RuntimeError(f"WASTEEX_ENV must be one of {sorted(module.CONFIGS)}, not {env!r}")
    app.config.from_object(module.CONFIGS[env])
    app.config["ENV_NAME"] = env
    for key, raw in os.environ.items():
        if key.startswith(ENV_PREFIX) and key not in {"WASTEEX_ENV", "WASTEEX_INSTANCE_PATH"}:
            name = key[len(ENV_PREFIX):]
            app.config[name] = _coerce(app.config.get(name), raw)
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = app.config.get("DATABASE_URL") or f"sqlite:///{Path(app.instance_path) / 'wasteex.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if app.config.get("REPLICA_DATABASE_URL"):
        app.config["SQLALCHEMY_BINDS"] = {"replica": app.config["REPLICA_DATABASE_URL"]}
    if url.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    if env == "production" and app.config["SECRET_KEY"] == module.DEV_SECRET_KEY:
        raise RuntimeError("Refusing to start in production with the development SECRET_KEY; "
                           "set WASTEEX_SECRET_KEY.")


def configure_logging(app: Flask) -> None:
    level = logging.DEBUG if app.debug else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    from wasteex import i18n, throttle
    from wasteex.accounts import session as account_session
    from wasteex.extensions import api, csrf, db, migrate

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from wasteex.database import use_sqlite_transactions

        with app.app_context():
            use_sqlite_transactions(db.engine)
    migrate.init_app(app, db, directory=str(paths.MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    i18n.init_app(app)
    account_session.init_app(app)
    throttle.init_app(app)
    api.init_app(app, spec_kwargs={"info": {"description": "WasteEx JSON API"}})


def register_models() -> None:
    """Import every model module so metadata is complete for Alembic."""
    from wasteex import models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from wasteex import notifications
    from wasteex.accounts.admin import bp as admin_bp
    from wasteex.accounts.views import bp as accounts_bp
    from wasteex.agreements.views import bp as agreements_bp
    from wasteex.api import register_api
    from wasteex.api.base import IdConverter
    from wasteex.catalog.views import bp as catalog_bp
    from wasteex.enterprises.views import bp as enterprises_bp
    from wasteex.ledger.views import bp as ledger_bp
    from wasteex.main.views import bp as main_bp
    from wasteex.maps.views import bp as maps_bp
    from wasteex.market.views import bp as market_bp
    from wasteex.matching.views import bp as matching_bp
    from wasteex.transfers.lifecycle_views import bp as lifecycle_bp
    from wasteex.transfers.revision_views import bp as slip_revisions_bp
    from wasteex.regulator.planner_views import bp as planner_bp, quota_bp
    from wasteex.regulator.worklist_views import bp as anomalies_bp
    from wasteex.regulator.views import bp as cockpit_bp
    from wasteex.streams.views import bp as streams_bp
    from wasteex.transfers.views import bp as transfers_bp

    # Every <int:…> in a page route is a row id: out of range (≥ 2³¹, or 0) is a 404, never an overflow.
    app.url_map.converters["int"] = IdConverter
    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(enterprises_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(streams_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(market_bp)
    app.register_blueprint(agreements_bp)
    app.register_blueprint(transfers_bp)
    app.register_blueprint(matching_bp)
    app.register_blueprint(lifecycle_bp)
    app.register_blueprint(slip_revisions_bp)
    app.register_blueprint(maps_bp)
    app.register_blueprint(anomalies_bp)
    app.register_blueprint(planner_bp)
    app.register_blueprint(quota_bp)
    app.register_blueprint(cockpit_bp)
    notifications.init_app(app)  # the inbox and webhook pages, the unread badge, the outbox
    register_api(app)


def register_errorhandlers(app: Flask) -> None:
    from wasteex.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from wasteex.cli import register_commands as register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from wasteex import security

    security.init_app(app)


def register_jinja_globals(app: Flask) -> None:
    from wasteex import templating

    templating.init_app(app)
