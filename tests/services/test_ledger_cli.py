"""``flask ledger import`` and ``flask ledger verify`` through the Flask CLI runner, on a real database."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tests.conftest import is_postgres
from tests.factories import make_enterprise, make_facility, make_stream, make_user
from tests.services.test_ledger_excel import DAY, fill, good_rows
from wasteex.enterprises.models import FacilityKind
from wasteex.extensions import db
from wasteex.ledger import chain_store
from wasteex.ledger.cli import ledger_cli
from wasteex.ledger.models import LedgerEntry
from wasteex.ledger.service import EntryInput, record_entry


@pytest.fixture
def runner(app):
    if "ledger" not in app.cli.commands:  # until the factory registers it
        app.cli.add_command(ledger_cli)
    return app.test_cli_runner()


@pytest.fixture
def plant(world):
    make_facility(world.site_a, "ZC-01", FacilityKind.STORAGE)
    make_facility(world.site_a, "LY-01", FacilityKind.SELF_UTILISATION)
    make_facility(world.site_a, "CS-01", FacilityKind.GENERATION)
    world.stream = make_stream(world.a, world.site_a, "SW02")
    return world


def write(tmp_path, rows, **kw):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(fill(rows, **kw))
    return str(path)


def test_import_prints_outcomes_and_summary(plant, runner, tmp_path):
    w = plant
    rows = good_rows(w)[:2]
    rows[1] = dict(rows[1], tonnes="-3")
    path = write(tmp_path, rows)
    result = runner.invoke(args=["ledger", "import", path, "--enterprise", w.a.credit_code])
    assert result.exit_code == 3, result.output
    assert "line 3 ref L-0001 added" in result.output
    assert "line 4 ref L-0002 refused F4 tonnes:" in result.output
    assert result.output.strip().endswith("added 1, skipped 0, refused 1")
    db.session.rollback()  # the command committed in its own unit of work; look again
    entry = db.session.scalar(select(LedgerEntry))
    assert entry.reference == "L-0001" and entry.recorded_by_id == w.alice.id  # the first admin

    clean = write(tmp_path, good_rows(w))
    result = runner.invoke(args=["ledger", "import", clean, "--enterprise", w.a.credit_code, "--as", "ALICE@a.cn"])
    assert result.exit_code == 0, result.output
    assert "line 3 ref L-0001 skipped" in result.output
    assert "added 3, skipped 1, refused 0" in result.output


def test_import_bad_invocations(plant, runner, tmp_path):
    w = plant
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    result = runner.invoke(args=["ledger", "import", str(junk), "--enterprise", w.a.credit_code])
    assert result.exit_code == 2 and "junk.xlsx" in result.output
    path = write(tmp_path, good_rows(w)[:1])
    result = runner.invoke(args=["ledger", "import", path, "--enterprise", "911506220000000000"])
    assert result.exit_code == 1
    result = runner.invoke(args=["ledger", "import", path, "--enterprise", w.a.credit_code, "--as", w.bob.email])
    assert result.exit_code == 1
    result = runner.invoke(args=["ledger", "import", path])  # --enterprise is required
    assert result.exit_code == 2
    db.session.rollback()
    assert db.session.scalar(select(LedgerEntry.id)) is None


# --------------------------------------------------------------------------- verify


@pytest.fixture
def chains(plant):
    """Enterprise A with four entries, enterprise B with one, all committed."""
    w = plant
    for tonnes in ("10", "20", "30", "40"):
        record_entry(w.alice, w.a.id, EntryInput(kind="generation", period_date=DAY, tonnes=tonnes, handler="张三",
                                                 stream_id=w.stream.id, facility_code="CS-01"))
    make_facility(w.site_b, "B-CS", FacilityKind.GENERATION)
    stream_b = make_stream(w.b, w.site_b, "SW01", name="硅锰渣")
    record_entry(w.bob, w.b.id, EntryInput(kind="generation", period_date=DAY, tonnes="5", handler="李四",
                                           stream_id=stream_b.id, facility_code="B-CS"))
    db.session.commit()
    w.entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.enterprise_id == w.a.id)
                                        .order_by(LedgerEntry.seq)))
    return w


@pytest.fixture
def tamper(app):
    """Lift the append-only guard the way someone with database access would, and put it back after."""
    if is_postgres():
        db.session.execute(text("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only"))
    else:  # the per-test SQLite file is thrown away afterwards
        db.session.execute(text("DROP TRIGGER ledger_entry_no_update"))
        db.session.execute(text("DROP TRIGGER ledger_entry_no_delete"))
    db.session.commit()

    def run(*statements):
        for statement, params in statements:
            db.session.execute(text(statement), params)
        db.session.commit()
        db.session.expire_all()

    yield run
    if is_postgres():
        db.session.rollback()
        db.session.execute(text("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only"))
        db.session.commit()


def verify(runner):
    return runner.invoke(args=["ledger", "verify"])


def test_verify_intact(chains, runner):
    w = chains
    result = verify(runner)
    assert result.exit_code == 0, result.output
    head = chain_store.head(w.a.id).head_hash
    assert f"OK {w.a.credit_code} 4 entries head {head}" in result.output
    assert f"OK {w.b.credit_code} 1 entries" in result.output
    assert "2 chains checked, 2 intact, 0 broken" in result.output


def _broken_line(result, w) -> str:
    assert result.exit_code == 1, result.output
    assert f"OK {w.b.credit_code}" in result.output  # the other chain is still reported intact
    return next(line for line in result.output.splitlines() if line.startswith("BROKEN"))


def test_verify_names_an_altered_row(chains, runner, tamper):
    w = chains
    second = w.entries[1]
    tamper(("UPDATE ledger_entry SET quantity_kg = 1 WHERE id = :id", {"id": second.id}))
    line = _broken_line(verify(runner), w)
    assert line == (f"BROKEN {w.a.credit_code} entry {second.id} seq 2: fields_altered "
                    "(field values differ from the hashed canonical text)")


def test_verify_names_a_removed_middle_row(chains, runner, tamper):
    w = chains
    tamper(("DELETE FROM ledger_entry WHERE id = :id", {"id": w.entries[1].id}))
    line = _broken_line(verify(runner), w)
    assert line.startswith(f"BROKEN {w.a.credit_code} entry {w.entries[2].id} seq 3: seq_gap")


def test_verify_names_a_removed_last_row(chains, runner, tamper):
    w = chains
    tamper(("DELETE FROM ledger_entry WHERE id = :id", {"id": w.entries[3].id}))
    line = _broken_line(verify(runner), w)
    assert line.startswith(f"BROKEN {w.a.credit_code} entry {w.entries[2].id} seq 3: head_mismatch")


def test_verify_names_reordered_rows(chains, runner, tamper):
    w = chains
    first, second = w.entries[1], w.entries[2]
    swap = "UPDATE ledger_entry SET seq = :seq WHERE id = :id"
    tamper((swap, {"seq": -1, "id": first.id}), (swap, {"seq": 2, "id": second.id}),
           (swap, {"seq": 3, "id": first.id}))
    line = _broken_line(verify(runner), w)
    assert line.startswith(f"BROKEN {w.a.credit_code} entry {second.id} seq 2: prev_hash_mismatch")
    result = runner.invoke(args=["ledger", "verify", "--enterprise", w.b.credit_code])
    assert result.exit_code == 0 and "1 chains checked, 1 intact" in result.output


def test_parallel_verify_reports_like_the_serial_walk(plant):
    """Chains walked in two worker processes give the same reports as one by one."""
    other = make_enterprise(make_user(), name="并行校验企业")
    record_entry(plant.alice, plant.a.id, EntryInput(kind="generation", period_date=DAY, tonnes="5", handler="张三",
                                                     stream_id=plant.stream.id, facility_code="CS-01"))
    db.session.commit()
    ids = [plant.a.id, other.id]
    serial = dict(chain_store.verify_all(ids, workers=1))
    parallel = dict(chain_store.verify_all(ids, workers=2))
    assert parallel == serial and parallel[plant.a.id].count == 1
