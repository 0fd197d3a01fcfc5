"""Whole-database backups, and proof after a restore that every ledger chain survived.

Two engines, one shape: ``create_backup`` writes a dump plus ``<dump>.manifest.json``
holding the ledger chain heads (enterprise, seq, head hash) of exactly the state
that was dumped; ``restore_backup`` loads a dump into another database; and
``compare_with_manifest`` checks the restored chains against the manifest.

- SQLite: sqlite3's online backup API (``Connection.backup``) copies the file in one
  step under a read lock, so the copy is consistent while the application writes
  (writers wait at most for the copy, within their busy timeout). The heads are
  read from the copy itself.
- PostgreSQL: ``pg_dump --format=custom`` / ``pg_restore`` run as subprocesses with the
  URL turned into libpq arguments; the password travels in ``PGPASSWORD``, never on a
  command line. The heads are read in a REPEATABLE READ transaction whose snapshot
  pg_dump imports (``--snapshot``), so manifest and dump show the same instant.

Why the manifest: a chain only proves internal consistency. Someone able to rewrite
the whole table (a superuser, or whoever holds the dump file) can re-hash a chain;
a head hash recorded at backup time, and printed for the operator to compare with
the heads on slips and exports, catches that (FIELD_NOTES.md).

No Flask import here: chain verification runs in the caller's app context
(``compare_with_manifest``), the CLI (``backup_cli``) decides which app that is.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

MANIFEST_FORMAT = "wasteex-backup/1"
MANIFEST_SUFFIX = ".manifest.json"
DUMP_SUFFIX = {"sqlite": ".sqlite", "postgresql": ".pgdump"}
PG_BIN_ROOT = Path("/usr/lib/postgresql")  # Debian keeps one bin/ per client version here

HEADS_SQL = ("SELECT c.enterprise_id, e.credit_code, c.seq, c.head_hash FROM ledger_chain c "
             "LEFT JOIN enterprise e ON e.id = c.enterprise_id ORDER BY c.enterprise_id")
REVISION_SQL = "SELECT version_num FROM alembic_version"
PG_USER_RELATIONS_SQL = """SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"""


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is for the operator."""


class TargetNotEmpty(BackupError):
    """The restore target already holds data and ``force`` was not given."""


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class ChainHead:
    enterprise_id: int
    credit_code: str | None
    seq: int
    head_hash: str

    @property
    def label(self) -> str:
        return self.credit_code or f"enterprise#{self.enterprise_id}"


@dataclass(frozen=True)
class Manifest:
    engine: str
    dump: str  # file name, in the manifest's folder
    sha256: str
    size: int
    created_at: str
    source: str  # the database URL, password hidden
    schema_revision: str | None
    tool: str | None  # pg_dump --version, or the SQLite library version
    chains: tuple[ChainHead, ...] = field(default_factory=tuple)
    format: str = MANIFEST_FORMAT

    def to_json(self) -> str:
        data = {"format": self.format, **asdict(self)}
        data["chains"] = [asdict(chain) for chain in self.chains]
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"not a {MANIFEST_FORMAT} manifest")
        data["chains"] = tuple(ChainHead(**chain) for chain in data.get("chains", ()))
        return cls(**data)


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + MANIFEST_SUFFIX)


def read_manifest(dump: Path) -> Manifest:
    path = manifest_path(dump)
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"no manifest {path.name} next to {dump}") from None
    except (ValueError, TypeError, KeyError) as bad:
        raise BackupError(f"unreadable manifest {path}: {bad}") from None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _heads(rows: Iterable[tuple]) -> tuple[ChainHead, ...]:
    return tuple(ChainHead(int(eid), code, int(seq), head) for eid, code, seq, head in rows)


# --------------------------------------------------------------------------- URLs and files


def database_url(url: str | URL) -> URL:
    """The URL as SQLAlchemy will use it: a bare ``postgresql://`` gets the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def engine_of(url: str | URL) -> str:
    backend = database_url(url).get_backend_name()
    if backend not in DUMP_SUFFIX:
        raise BackupError(f"cannot back up or restore a {backend} database (only SQLite and PostgreSQL)")
    return backend


def sqlite_file(url: str | URL) -> Path:
    name = database_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(f"not a SQLite file URL: {url}")
    return Path(name)


def libpq_args(url: str | URL) -> tuple[list[str], dict[str, str]]:
    """``(arguments, environment)`` for pg_dump/pg_restore/psql from a SQLAlchemy URL.

    Host, port and user become ``--host``/``--port``/``--username``; the database name and
    any query parameters (``sslmode``, ``host`` for a socket directory …) a conninfo string
    for ``--dbname``. The password goes into ``PGPASSWORD`` only.
    """
    parsed = database_url(url)
    if not parsed.database:
        raise BackupError(f"no database name in {parsed.render_as_string(hide_password=True)}")
    args: list[str] = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    params = {"dbname": parsed.database}
    for key, value in parsed.query.items():
        params[key] = value[-1] if isinstance(value, tuple) else value
    args += ["--dbname", " ".join(f"{key}={_conninfo_value(value)}" for key, value in params.items())]
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return args, env


def _conninfo_value(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def default_dump_path(folder: Path, engine: str, now: datetime | None = None) -> Path:
    """``<folder>/wasteex-20250314T083000Z.sqlite`` (or ``.pgdump``); never an existing name."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = folder / f"wasteex-{stamp}{DUMP_SUFFIX[engine]}", 1
    while candidate.exists() or manifest_path(candidate).exists():
        candidate, n = folder / f"wasteex-{stamp}-{n}{DUMP_SUFFIX[engine]}", n + 1
    return candidate


def _private_file(path: Path) -> None:
    """Create ``path`` empty and readable by the owner only: a dump holds personal data and password hashes."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# --------------------------------------------------------------------------- PostgreSQL tools


def find_pg_tool(name: str, bindir: str | None = None) -> str | None:
    """The ``pg_dump``/``pg_restore`` to run: from ``bindir`` if given, else the newest
    Debian client under /usr/lib/postgresql (a newer pg_dump reads older servers; an
    older one refuses a newer server), else whatever ``PATH`` offers."""
    if bindir:
        candidate = Path(bindir) / name
        return str(candidate) if os.access(candidate, os.X_OK) else None
    versions = [(int(p.parts[-3]), p) for p in PG_BIN_ROOT.glob(f"*/bin/{name}") if p.parts[-3].isdigit()]
    if versions:
        return str(max(versions)[1])
    return shutil.which(name)


def _run_pg_tool(name: str, bindir: str | None, args: list[str], env: Mapping[str, str]) -> str:
    tool = find_pg_tool(name, bindir)
    if tool is None:
        raise BackupError(f"{name} not found: install postgresql-client, or set WASTEEX_PG_BINDIR")
    done = subprocess.run([tool, *args], env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        message = done.stderr.strip() or f"exit status {done.returncode}"
        if "version mismatch" in message:
            message += (f"\n{tool} is older than the server: install the server's client version "
                        "(postgresql-client-N) or point WASTEEX_PG_BINDIR at it")
        raise BackupError(f"{name} failed: {message}")
    return done.stdout


def pg_tool_version(name: str, bindir: str | None = None) -> str | None:
    tool = find_pg_tool(name, bindir)
    if tool is None:
        return None
    return subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.strip() or None


def _pg_engine(url: str | URL, **kwargs):
    return create_engine(database_url(url), poolclass=NullPool, **kwargs)


# --------------------------------------------------------------------------- create


def create_backup(url: str | URL, dump: Path, *, bindir: str | None = None,
                  now: datetime | None = None) -> Manifest:
    """Dump the database at ``url`` to ``dump`` and write its manifest next to it."""
    engine = engine_of(url)
    _private_file(dump)
    try:
        if engine == "sqlite":
            heads, revision, tool = _sqlite_backup(sqlite_file(url), dump)
        else:
            heads, revision, tool = _pg_backup(url, dump, bindir)
    except BaseException:
        dump.unlink(missing_ok=True)
        raise
    manifest = Manifest(
        engine=engine, dump=dump.name, sha256=file_sha256(dump), size=dump.stat().st_size,
        created_at=(now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds"),
        source=database_url(url).render_as_string(hide_password=True), schema_revision=revision, tool=tool,
        chains=heads,
    )
    target = manifest_path(dump)
    target.unlink(missing_ok=True)
    _private_file(target)
    target.write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _sqlite_ro(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"no SQLite database at {path}")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _sqlite_copy(source: sqlite3.Connection, target: Path) -> None:
    """One ``backup`` step over every page: the source stays read-locked for the copy,
    so the copy is one consistent state; a busy source is retried by sqlite3 itself."""
    destination = sqlite3.connect(target)
    try:
        source.backup(destination, pages=-1)
    finally:
        destination.close()


def _sqlite_facts(connection: sqlite3.Connection) -> tuple[tuple[ChainHead, ...], str | None]:
    heads = _heads(connection.execute(HEADS_SQL).fetchall())
    try:
        revision = connection.execute(REVISION_SQL).fetchone()
    except sqlite3.OperationalError:
        revision = None
    return heads, revision[0] if revision else None


def _sqlite_backup(source_path: Path, dump: Path) -> tuple[tuple[ChainHead, ...], str | None, str]:
    source = _sqlite_ro(source_path)
    try:
        _sqlite_copy(source, dump)
    finally:
        source.close()
    copy = _sqlite_ro(dump)  # the heads of exactly what was copied
    try:
        heads, revision = _sqlite_facts(copy)
    finally:
        copy.close()
    return heads, revision, f"sqlite {sqlite3.sqlite_version}"


def _pg_backup(url: str | URL, dump: Path, bindir: str | None) -> tuple[tuple[ChainHead, ...], str | None, str | None]:
    args, env = libpq_args(url)
    engine = _pg_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection:
            # The transaction stays open while pg_dump imports its snapshot.
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            heads = _heads(connection.execute(text(HEADS_SQL)).all())
            has_revision = connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
            revision = connection.scalar(text(REVISION_SQL)) if has_revision else None
            _run_pg_tool("pg_dump", bindir, ["--format=custom", f"--snapshot={snapshot}", "--file", str(dump),
                                             "--no-password", *args], env)
            connection.rollback()
    finally:
        engine.dispose()
    return heads, revision, pg_tool_version("pg_dump", bindir)


# --------------------------------------------------------------------------- restore


def restore_backup(dump: Path, into: str | URL, *, force: bool = False, bindir: str | None = None) -> Manifest:
    """Load ``dump`` into the database at ``into`` after checking the file against its manifest.

    Refuses (``TargetNotEmpty``) a target that already holds tables unless ``force``:
    SQLite is then overwritten whole; PostgreSQL gets ``pg_restore --clean --if-exists``
    (objects of the backup are replaced; objects the backup does not have are left).
    A PostgreSQL target database that does not exist is created.
    """
    manifest = read_manifest(dump)
    if not dump.is_file():
        raise BackupError(f"no backup file {dump}")
    if file_sha256(dump) != manifest.sha256:
        raise BackupError(f"{dump.name} does not match the SHA-256 in its manifest: altered or incomplete")
    engine = engine_of(into)
    if engine != manifest.engine:
        raise BackupError(f"a {manifest.engine} backup cannot be restored into a {engine} database")
    if engine == "sqlite":
        _sqlite_restore(dump, sqlite_file(into), force)
    else:
        _pg_restore(dump, into, force, bindir)
    return manifest


def _sqlite_restore(dump: Path, target: Path, force: bool) -> None:
    if target.exists() and target.stat().st_size and not force:
        existing = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = existing.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            existing.close()
        if tables:
            raise TargetNotEmpty(f"{target} already holds a database; pass --force to overwrite it")
    if not target.exists():
        _private_file(target)
    source = _sqlite_ro(dump)
    try:
        _sqlite_copy(source, target)
    finally:
        source.close()


def ensure_pg_database(url: str | URL) -> bool:
    """Create the database named in ``url`` if it does not exist (needs CREATEDB); True if created."""
    parsed = database_url(url)
    for maintenance in ("postgres", "template1"):
        engine = _pg_engine(parsed.set(database=maintenance), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                           {"name": parsed.database})
                if exists:
                    return False
                quoted = connection.dialect.identifier_preparer.quote(parsed.database)
                connection.execute(text(f"CREATE DATABASE {quoted}"))
                return True
        except Exception as failed:  # noqa: BLE001 - try the next maintenance database, then report
            error = failed
        finally:
            engine.dispose()
    raise BackupError(f"cannot create database {parsed.database}: {error}")


def pg_is_empty(url: str | URL) -> bool:
    engine = _pg_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(PG_USER_RELATIONS_SQL)) == 0
    finally:
        engine.dispose()


def _pg_restore(dump: Path, into: str | URL, force: bool, bindir: str | None) -> None:
    ensure_pg_database(into)
    if not force and not pg_is_empty(into):
        raise TargetNotEmpty(f"database {database_url(into).database} is not empty; pass --force to overwrite it")
    args, env = libpq_args(into)
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--no-password"]
    if force:
        options += ["--clean", "--if-exists"]
    _run_pg_tool("pg_restore", bindir, [*options, *args, str(dump)], env)


# --------------------------------------------------------------------------- after restore


@dataclass(frozen=True)
class ChainCheck:
    """One enterprise's chain after a restore: ``status`` is OK, BROKEN, MISMATCH, MISSING or EXTRA."""

    enterprise_id: int
    label: str
    status: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.status == "OK"

    def line(self) -> str:
        return f"{self.status} {self.label} {self.detail}"


@dataclass(frozen=True)
class CheckReport:
    checks: tuple[ChainCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> int:
        return sum(not check.ok for check in self.checks)


def compare_with_manifest(manifest: Manifest, verify: Callable[[list[int]], Iterable[tuple[int, object]]],
                          stored_ids: Iterable[int], labels: Mapping[int, str] | None = None) -> CheckReport:
    """Walk each chain (``verify``: chain_store.verify_all bound to the restored database) and
    compare where it ends with the manifest: same seq, same head hash, same set of chains."""
    expected = {head.enterprise_id: head for head in manifest.chains}
    ids = sorted(set(expected) | set(stored_ids))
    labels = {**{head.enterprise_id: head.label for head in manifest.chains}, **(labels or {})}
    checks = []
    for enterprise_id, report in verify(ids):
        label = labels.get(enterprise_id, f"enterprise#{enterprise_id}")
        head = expected.get(enterprise_id)
        if not report.ok:
            fault = report.broken
            where = f"entry {fault.id} seq {fault.seq}" if fault.id is not None else "no entries left"
            checks.append(ChainCheck(enterprise_id, label, "BROKEN", f"{where}: {fault.reason.value} ({fault.message})"))
        elif head is None:
            checks.append(ChainCheck(enterprise_id, label, "EXTRA", f"seq {report.count} head {report.head_hash}: "
                                     "a chain the backup does not have"))
        elif report.count == 0 and head.seq > 0:
            checks.append(ChainCheck(enterprise_id, label, "MISSING", f"backup seq {head.seq} head {head.head_hash}: "
                                     "no entries in the restored database"))
        elif (report.count, report.head_hash) != (head.seq, head.head_hash):
            checks.append(ChainCheck(enterprise_id, label, "MISMATCH",
                                     f"backup seq {head.seq} head {head.head_hash}, "
                                     f"restored seq {report.count} head {report.head_hash}"))
        else:
            checks.append(ChainCheck(enterprise_id, label, "OK", f"seq {head.seq} head {head.head_hash}"))
    return CheckReport(tuple(checks))

