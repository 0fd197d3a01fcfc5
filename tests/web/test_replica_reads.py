"""With a read replica configured, the cockpit reads from it and everything else from the primary.

The "replica" here is a copy of the test's SQLite file (so the test runs on SQLite only) whose
monthly totals are then deleted, as if it lagged: what a page shows tells which database it read.
A real PostgreSQL streaming standby, paused mid-replay, is exercised by the PostgreSQL run of
tests/integration/test_topology.py.
"""
from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import is_postgres
from tests.factories import login
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from tests.services.transfer_world import carry, emit, operate, published_slip, receive, shipping  # noqa: F401
from wasteex import create_app
from wasteex.extensions import db

pytestmark = pytest.mark.skipif(is_postgres(), reason="a second SQLite file stands for the replica")


def test_the_cockpit_reads_the_replica_and_nothing_else_does(shipping, database_url, tmp_path):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    carry(w, slip)
    receive(w, slip)
    operate(w, slip)  # the producer now has 30 t of entrusted utilisation this year
    db.session.commit()
    replica = tmp_path / "replica.sqlite"
    shutil.copyfile(database_url.removeprefix("sqlite:///"), replica)
    engine = create_engine(f"sqlite:///{replica}")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_monthly_total"))  # the replica "lags": no figures yet
    engine.dispose()

    app = create_app({"DATABASE_URL": database_url, "REPLICA_DATABASE_URL": f"sqlite:///{replica}",
                      "WTF_CSRF_ENABLED": False})
    client = app.test_client()  # each request gets an app context of its own, as in production
    login(client, w.regulator)
    year = date.today().year
    cockpit = client.get(f"/api/v1/regulator/overview?year={year}").json
    stats = client.get(f"/api/v1/stats/utilisation?year={year}&enterprise={w.a.credit_code}").json
    page = client.get(f"/regulator/?year={year}")
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    assert stats["entrusted_utilised_t"] == 30.0  # read from the primary
    assert jungar_utilised(cockpit) == 0.0 and page.status_code == 200  # read from the replica, which lags

    without = create_app({"DATABASE_URL": database_url, "WTF_CSRF_ENABLED": False}).test_client()
    login(without, w.regulator)
    assert jungar_utilised(without.get(f"/api/v1/regulator/overview?year={year}").json) == 30.0


def jungar_utilised(overview: dict) -> float:
    return next(b for b in overview["bases"] if b["key"] == "jungar")["entrusted_utilised_t"]
