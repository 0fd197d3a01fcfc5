"""Backups on a real database (SQLite file, or PostgreSQL with WASTEEX_TEST_DATABASE_URL).

A backup taken while a writer keeps appending restores into a new database whose
chains verify and end exactly at the heads in the manifest; an altered restored
copy, a re-hashed chain and an altered dump file are all caught.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, is_postgres
from tests.factories import make_facility, make_stream
from wasteex import backup
from wasteex.accounts.models import User
from wasteex.enterprises.models import FacilityKind
from wasteex.extensions import db
from wasteex.ledger import chain_store
from wasteex.ledger.chain import GENESIS, canonical_text, entry_hash
from wasteex.ledger.service import EntryInput, record_entry

DAY = date(2025, 3, 15)
SUFFIX = ".pgdump" if is_postgres() else ".sqlite"


def generation(stream_id: int, facility: str, tonnes: str = "10") -> EntryInput:
    return EntryInput(kind="generation", period_date=DAY, tonnes=tonnes, handler="张三",
                      stream_id=stream_id, facility_code=facility)


@pytest.fixture
def plant(world):
    """Enterprise A with five committed entries, B with two."""
    w = world
    make_facility(w.site_a, "CS-01", FacilityKind.GENERATION)
    make_facility(w.site_b, "B-CS", FacilityKind.GENERATION)
    w.stream_a = make_stream(w.a, w.site_a, "SW02")
    w.stream_b = make_stream(w.b, w.site_b, "SW01", name="硅锰渣")
    for tonnes in ("10", "20", "30", "40", "50"):
        record_entry(w.alice, w.a.id, generation(w.stream_a.id, "CS-01", tonnes))
    for tonnes in ("5", "6"):
        record_entry(w.bob, w.b.id, generation(w.stream_b.id, "B-CS", tonnes))
    db.session.commit()
    return w


@pytest.fixture
def runner(app):
    if is_postgres() and backup.find_pg_tool("pg_dump") is None:
        pytest.skip("pg_dump/pg_restore not installed (apt-get install postgresql-client)")
    return app.test_cli_runner()


@pytest.fixture
def target(tmp_path):
    """URL of a database that does not exist yet: a new SQLite file, or ``<test db>_restore``."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    url = make_url(PG_URL)
    url = url.set(database=f"{url.database}_restore")
    _drop_pg_database(url.database)
    yield url.render_as_string(hide_password=False)
    _drop_pg_database(url.database)


def _drop_pg_database(name: str) -> None:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


class Writer(threading.Thread):
    """Appends to A's chain in its own app context and session until stopped."""

    def __init__(self, app, w):
        super().__init__(daemon=True)
        self.app, self.user_id, self.enterprise_id, self.stream_id = app, w.alice.id, w.a.id, w.stream_a.id
        self.count, self.errors = 0, []
        self.stop = threading.Event()
        self.progress = threading.Condition()

    def run(self):
        with self.app.app_context():
            try:
                actor = db.session.get(User, self.user_id)
                while not self.stop.is_set():
                    record_entry(actor, self.enterprise_id, generation(self.stream_id, "CS-01", "1.5"))
                    db.session.commit()
                    with self.progress:
                        self.count += 1
                        self.progress.notify_all()
            except Exception as error:  # noqa: BLE001 - reported by the test
                self.errors.append(error)
            finally:
                db.session.remove()

    def wait_for(self, count: int) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: self.count >= count or self.errors, timeout=60)
        assert not self.errors, self.errors


def restored_rows(url: str, sql: str, **params):
    engine = create_engine(backup.database_url(url))
    with engine.connect() as connection:
        rows = connection.execute(text(sql), params).all()
    engine.dispose()
    return rows


def test_backup_while_writing_restores_with_the_manifest_heads(app, plant, runner, target, tmp_path):
    w = plant
    dump = tmp_path / f"live{SUFFIX}"
    writer = Writer(app, w)
    db.session.rollback()  # this session's read lock would hold the writer's commits back on SQLite
    writer.start()
    try:
        writer.wait_for(3)
        created = runner.invoke(args=["backup", "create", "--output", str(dump)])
        at_backup = writer.count
        writer.wait_for(at_backup + 3)  # the application kept writing after the backup
    finally:
        writer.stop.set()
        writer.join(30)
    assert not writer.errors, writer.errors
    assert created.exit_code == 0, created.output

    manifest = backup.read_manifest(dump)
    heads = {head.enterprise_id: head for head in manifest.chains}
    assert manifest.engine == ("postgresql" if is_postgres() else "sqlite") and manifest.schema_revision
    assert set(heads) == {w.a.id, w.b.id} and heads[w.b.id].seq == 2
    assert heads[w.a.id].seq >= 5 + 3  # taken while the writer was appending ...
    db.session.rollback()
    assert chain_store.head(w.a.id).seq > heads[w.a.id].seq  # ... which went on afterwards
    assert f"head {w.a.credit_code} seq {heads[w.a.id].seq} {heads[w.a.id].head_hash}" in created.output

    restored = runner.invoke(args=["backup", "restore", str(dump), "--into", target, "--workers", "1"])
    assert restored.exit_code == 0, restored.output
    for head in heads.values():
        assert f"OK {head.credit_code} seq {head.seq} head {head.head_hash}" in restored.output
    assert "2 chains compared with the manifest" in restored.output and "2 match, 0 differ" in restored.output
    # The restored database holds the snapshot: exactly the manifest's entries, chain rows matching.
    count = restored_rows(target, "SELECT count(*) FROM ledger_entry WHERE enterprise_id = :e", e=w.a.id)[0][0]
    assert count == heads[w.a.id].seq
    chain = restored_rows(target, "SELECT seq, head_hash FROM ledger_chain WHERE enterprise_id = :e", e=w.a.id)
    assert tuple(chain[0]) == (heads[w.a.id].seq, heads[w.a.id].head_hash)


@pytest.fixture
def restored(plant, runner, target, tmp_path):
    """A backup of the plant (no writer) restored into ``target``."""
    dump = tmp_path / f"plant{SUFFIX}"
    assert runner.invoke(args=["backup", "create", "--output", str(dump)]).exit_code == 0
    result = runner.invoke(args=["backup", "restore", str(dump), "--into", target, "--workers", "1"])
    assert result.exit_code == 0, result.output
    return dump


def test_restore_refuses_a_non_empty_target_unless_forced(plant, runner, target, restored):
    again = runner.invoke(args=["backup", "restore", str(restored), "--into", target])
    assert again.exit_code == 3 and "pass --force" in again.output
    forced = runner.invoke(args=["backup", "restore", str(restored), "--into", target, "--force", "--workers", "1"])
    assert forced.exit_code == 0, forced.output
    assert "2 match, 0 differ" in forced.output


def _raw_edit(url: str, statements: list[tuple[str, dict]]) -> None:
    """Change the restored copy the way someone with database access would: guard off, edit."""
    if is_postgres():
        engine = create_engine(backup.database_url(url))
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only"))
            for sql, params in statements:
                connection.execute(text(sql), params)
        engine.dispose()
        return
    connection = sqlite3.connect(backup.sqlite_file(url))
    with connection:
        connection.execute("DROP TRIGGER IF EXISTS ledger_entry_no_update")
        connection.execute("DROP TRIGGER IF EXISTS ledger_entry_no_delete")
        for sql, params in statements:
            connection.execute(sql, params)
    connection.close()


def test_an_altered_row_in_the_restored_copy_is_detected(plant, runner, target, restored):
    w = plant
    _raw_edit(target, [("UPDATE ledger_entry SET quantity_kg = 1 WHERE enterprise_id = :e AND seq = 2", {"e": w.a.id})])
    result = runner.invoke(args=["backup", "check", str(restored), "--database", target, "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert f"BROKEN {w.a.credit_code} entry" in result.output and "seq 2: fields_altered" in result.output
    assert f"OK {w.b.credit_code} seq 2" in result.output
    assert "1 match, 1 differ" in result.output


def test_a_rehashed_chain_verifies_but_its_head_differs_from_the_manifest(plant, runner, target, restored):
    """A superuser rewrites seq 2 and re-hashes everything after it: only the recorded head shows it."""
    w = plant
    rows = restored_rows(target, "SELECT id, seq, canonical FROM ledger_entry WHERE enterprise_id = :e ORDER BY seq",
                         e=w.a.id)
    statements, prev = [], GENESIS
    for entry_id, seq, canonical in rows:
        fields = json.loads(canonical)
        if seq == 2:
            fields["quantity_kg"] = 1
            statements.append(("UPDATE ledger_entry SET quantity_kg = 1 WHERE id = :id", {"id": entry_id}))
        canonical = canonical_text(fields)
        digest = entry_hash(prev, canonical)
        statements.append(("UPDATE ledger_entry SET prev_hash = :p, canonical = :c, hash = :h WHERE id = :id",
                           {"p": prev, "c": canonical, "h": digest, "id": entry_id}))
        prev = digest
    statements.append(("UPDATE ledger_chain SET head_hash = :h WHERE enterprise_id = :e", {"h": prev, "e": w.a.id}))
    _raw_edit(target, statements)

    result = runner.invoke(args=["backup", "check", str(restored), "--database", target, "--workers", "1"])
    assert result.exit_code == 1, result.output
    manifest_head = {h.enterprise_id: h for h in backup.read_manifest(restored).chains}[w.a.id].head_hash
    assert (f"MISMATCH {w.a.credit_code} backup seq 5 head {manifest_head}, restored seq 5 head {prev}"
            in result.output)


def test_an_altered_or_unaccompanied_dump_is_refused(plant, runner, target, tmp_path):
    dump = tmp_path / f"plant{SUFFIX}"
    assert runner.invoke(args=["backup", "create", "--output", str(dump)]).exit_code == 0
    with dump.open("ab") as stream:
        stream.write(b"\0")
    result = runner.invoke(args=["backup", "restore", str(dump), "--into", target])
    assert result.exit_code == 2 and "does not match the SHA-256" in result.output
    backup.manifest_path(dump).unlink()
    result = runner.invoke(args=["backup", "restore", str(dump), "--into", target])
    assert result.exit_code == 2 and "no manifest" in result.output


def test_default_location_is_a_timestamped_file_under_instance_backups(app, plant, runner):
    result = runner.invoke(args=["backup", "create"])
    assert result.exit_code == 0, result.output
    dumps = list((Path(app.instance_path) / "backups").glob(f"wasteex-*Z{SUFFIX}"))
    assert len(dumps) == 1 and backup.manifest_path(dumps[0]).is_file()
    assert oct(dumps[0].stat().st_mode & 0o777) == "0o600"
    second = runner.invoke(args=["backup", "create"])  # same second: a new name, never an overwrite
    assert second.exit_code == 0 and len(list(dumps[0].parent.glob(f"*{SUFFIX}"))) == 2


def test_libpq_arguments_keep_the_password_off_the_command_line():
    args, env = backup.libpq_args("postgresql+psycopg://ops:s3cr%40t@db.example:5433/wasteex?sslmode=require")
    assert args == ["--host", "db.example", "--port", "5433", "--username", "ops",
                    "--dbname", "dbname='wasteex' sslmode='require'"]
    assert env == {"PGPASSWORD": "s3cr@t"} and not any("s3cr" in arg for arg in args)
    args, env = backup.libpq_args("postgresql:///wasteex?host=/var/run/postgresql")
    assert args == ["--dbname", "dbname='wasteex' host='/var/run/postgresql'"] and env == {}
