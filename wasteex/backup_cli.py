"""``flask backup create | restore | check``: database backups whose ledger chains are proven after restore.

Exit codes are part of the interface (as for ``flask ledger``): 0 done and every
chain matches the manifest; 1 a chain is broken, missing, extra or ends elsewhere
than the manifest says; 2 the backup cannot be made or read (no manifest, checksum
differs, pg_dump/pg_restore failed); 3 refused (the restore target is not empty).
"""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from wasteex import backup
from wasteex.extensions import db

backup_cli = AppGroup("backup", help="Back up the database; restore a backup and verify its ledger chains.")

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE, EXIT_REFUSED = 0, 1, 2, 3


def _fail(message: str, status: int) -> None:
    click.echo(message, err=True)
    click.get_current_context().exit(status)


def _bindir() -> str | None:
    return current_app.config.get("PG_BINDIR")  # WASTEEX_PG_BINDIR: a folder holding pg_dump and pg_restore


@backup_cli.command("create")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Dump file to write, or an existing folder for a timestamped one (default: instance/backups/).")
def create_command(output: Path | None) -> None:
    """Back up the application's database and write DUMP.manifest.json with every ledger chain head.

    SQLite uses the online backup API (safe while the application writes);
    PostgreSQL runs pg_dump --format=custom on one snapshot. Prints the dump, the
    manifest and one ``head <credit code> seq <n> <hash>`` line per chain.
    Exit status: 0 written; 2 the backup could not be made.
    """
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        engine = backup.engine_of(url)
        if output is None or output.is_dir():
            folder = output if output is not None else Path(current_app.instance_path) / "backups"
            dump = backup.default_dump_path(folder, engine)
        elif output.exists():
            raise backup.BackupError(f"{output} exists; choose another name")
        else:
            dump = output
        manifest = backup.create_backup(url, dump, bindir=_bindir())
    except backup.BackupError as failed:
        _fail(f"backup failed: {failed}", EXIT_UNREADABLE)
    click.echo(f"backup {dump} ({manifest.engine}, {manifest.size} bytes, sha256 {manifest.sha256})")
    click.echo(f"manifest {backup.manifest_path(dump)}")
    for head in manifest.chains:
        click.echo(f"head {head.label} seq {head.seq} {head.head_hash}")
    click.echo(f"{len(manifest.chains)} ledger chains recorded")


@backup_cli.command("restore")
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--into", "into", required=True, envvar="WASTEEX_RESTORE_URL",
              help="SQLAlchemy URL of the database to restore into (or WASTEEX_RESTORE_URL). "
                   "Put a PostgreSQL password in PGPASSWORD or ~/.pgpass rather than here.")
@click.option("--force", is_flag=True, help="Overwrite a target that already holds tables.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Chains verified in parallel processes (default: one per CPU).")
def restore_command(dump: Path, into: str, force: bool, workers: int | None) -> None:
    """Restore DUMP into the database at --into, then verify every ledger chain against DUMP's manifest.

    The dump must match the SHA-256 in its manifest. A PostgreSQL target database
    that does not exist is created. After loading, every chain is walked and must
    end at the seq and head hash the manifest recorded.
    Exit status: 0 restored and every chain matches; 1 restored but a chain is
    broken or differs from the manifest; 2 unreadable backup or failed restore;
    3 refused, the target is not empty (see --force).
    """
    try:
        manifest = backup.restore_backup(dump, into, force=force, bindir=_bindir())
    except backup.TargetNotEmpty as refused:
        _fail(f"restore refused: {refused}", EXIT_REFUSED)
    except backup.BackupError as failed:
        _fail(f"restore failed: {failed}", EXIT_UNREADABLE)
    shown = backup.database_url(into).render_as_string(hide_password=True)
    click.echo(f"restored {dump.name} (taken {manifest.created_at}, schema {manifest.schema_revision}) into {shown}")
    _report(manifest, into, workers)


@backup_cli.command("check")
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database", default=None, help="SQLAlchemy URL of the restored database (default: the application's).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Chains verified in parallel processes (default: one per CPU).")
def check_command(dump: Path, database: str | None, workers: int | None) -> None:
    """Verify a restored database's ledger chains against DUMP's manifest (as restore does at its end).

    For a database restored by hand with pg_restore. Exit status: 0 every chain
    matches; 1 a chain is broken or differs from the manifest; 2 no readable manifest.
    """
    try:
        manifest = backup.read_manifest(dump)
    except backup.BackupError as failed:
        _fail(str(failed), EXIT_UNREADABLE)
    _report(manifest, database, workers)


def _report(manifest: backup.Manifest, url: str | None, workers: int | None) -> None:
    report = _check(manifest, url, workers or os.cpu_count() or 1)
    for check in report.checks:
        click.echo(check.line())
    click.echo(f"{len(report.checks)} chains compared with the manifest of {manifest.created_at}: "
               f"{len(report.checks) - report.failed} match, {report.failed} differ")
    if report.ok:
        click.echo("Compare these head hashes with those printed on slips and exports: a re-hashed chain "
                   "verifies, but its head differs.")
    click.get_current_context().exit(EXIT_OK if report.ok else EXIT_FAILED)


def _check(manifest: backup.Manifest, url: str | None, workers: int) -> backup.CheckReport:
    """Run the comparison in an app bound to ``url`` (a second app: this one stays on its own database)."""
    if url is None:
        return _compare(manifest, workers)
    from wasteex.app import create_app

    target = create_app({"DATABASE_URL": backup.database_url(url).render_as_string(hide_password=False)})
    with target.app_context():
        try:
            return _compare(manifest, workers)
        finally:
            db.session.remove()
            db.engine.dispose()


def _compare(manifest: backup.Manifest, workers: int) -> backup.CheckReport:
    from wasteex.enterprises.models import Enterprise
    from wasteex.ledger import chain_store

    labels = dict(db.session.execute(select(Enterprise.id, Enterprise.credit_code)).all())
    return backup.compare_with_manifest(manifest, lambda ids: chain_store.verify_all(ids, workers=workers),
                                        chain_store.chained_enterprises(), labels)
