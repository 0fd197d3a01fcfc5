"""Shared fixtures: an app on a real database (SQLite file or PostgreSQL), clients, users.

``WASTEEX_TEST_DATABASE_URL`` selects PostgreSQL; otherwise each test gets a
fresh SQLite file copied from a template migrated once per session. On
PostgreSQL the schema is migrated once and every table truncated after each test.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from flask import g
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from wasteex import create_app
from wasteex.extensions import db

PG_URL = os.environ.get("WASTEEX_TEST_DATABASE_URL")


def is_postgres() -> bool:
    return bool(PG_URL and PG_URL.startswith("postgresql"))


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate an empty database once: a template file on SQLite, the schema on PostgreSQL."""
    if is_postgres():
        _reset_postgres_schema(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'template.sqlite'}"
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def database_url(database_template, tmp_path):
    if is_postgres():
        yield database_template
        _truncate_all(database_template)
    else:
        source = Path(database_template.removeprefix("sqlite:///"))
        target = tmp_path / "test.sqlite"
        shutil.copyfile(source, target)
        yield f"sqlite:///{target}"


# Loaded by the migrations and kept between tests (tests must not change them).
REFERENCE_TABLES = {"waste_category", "quality_attribute", "route", "route_category"}


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _fresh_g_per_request(app) -> None:
    """Tests keep one app context open, so ``g`` would outlive a request: Flask-Login caches
    the user there, Flask-Babel the locale, Flask-WTF the CSRF token. In production every
    request has its own ``g``; forget them before each request."""

    @app.before_request
    def forget_request_caches():
        for key in ("_login_user", "_flask_babel", "csrf_token"):
            g.pop(key, None)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({"DATABASE_URL": database_url, "WTF_CSRF_ENABLED": False})
    app.instance_path = str(tmp_path)
    _fresh_g_per_request(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_app(database_url):
    """An app with CSRF protection on, as in production."""
    app = create_app({"DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True})
    _fresh_g_per_request(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def rq_redis(app, database_url, monkeypatch):
    """Redis for the tests of RQ jobs: a database of its own (15), emptied before and after; skipped
    without Redis. The app queues there, and a worker the test starts builds its app on this database."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    url = "redis://127.0.0.1:6379/15"
    connection = Redis.from_url(url)
    try:
        connection.ping()
    except RedisDown:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    connection.flushdb()
    app.config["REDIS_URL"] = url
    monkeypatch.setenv("WASTEEX_DATABASE_URL", database_url)
    yield connection
    connection.flushdb()


from tests.factories import *  # noqa: E402,F401,F403  (fixtures defined there)
