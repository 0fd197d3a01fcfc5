"""The migrations build the whole schema from nothing and agree with the models."""
import pytest
from flask_migrate import upgrade
from sqlalchemy import inspect

from sqlalchemy import create_engine, make_url, text

from tests.conftest import PG_URL, _reset_postgres_schema, is_postgres
from wasteex import create_app
from wasteex.extensions import db


@pytest.fixture
def empty_url(tmp_path):
    """A database of its own, so the suite's migrated schema is left alone."""
    if not is_postgres():
        return f"sqlite:///{tmp_path / 'empty.sqlite'}"
    url = make_url(PG_URL)
    own = url.set(database=f"{url.database}_migrations")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own.database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    engine.dispose()
    own_url = own.render_as_string(hide_password=False)
    _reset_postgres_schema(own_url)
    return own_url


def test_upgrade_on_empty_database_then_no_drift(empty_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app = create_app({"DATABASE_URL": empty_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {"user", "enterprise", "site", "facility", "membership", "api_token", "audit_event"} <= tables
