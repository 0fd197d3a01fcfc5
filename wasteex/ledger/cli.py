"""``flask ledger import`` and ``flask ledger verify``: the ledger for operators and scripts.

Exit codes are part of the interface, so cron jobs and scripts can act on them
without parsing text (documented in each command's help).
"""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from wasteex.accounts.models import MemberRole, Membership, User
from wasteex.enterprises.models import Enterprise
from wasteex.errors import DomainError, ValidationFailed
from wasteex.extensions import db
from wasteex.ledger import chain_store
from wasteex.ledger.importer import ImportLine, import_rows, read_workbook
from wasteex.ledger.models import EntrySource

ledger_cli = AppGroup("ledger", help="The MEE ledger: import entries from .xlsx, verify the hash chains.")

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE, EXIT_REFUSED = 0, 1, 2, 3


def _enterprise(credit_code: str) -> Enterprise:
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code.strip().upper()))
    if enterprise is None:
        raise click.ClickException(f"no enterprise has credit code {credit_code}")
    return enterprise


def _actor(enterprise: Enterprise, email: str | None) -> User:
    """The given user, else the enterprise's first active admin: the CLI acts as a person, never as 'system'."""
    if email:
        user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    else:
        user = db.session.scalar(
            select(User).join(Membership).where(Membership.enterprise_id == enterprise.id,
                                                Membership.role == MemberRole.ADMIN, User.active.is_(True))
            .order_by(Membership.id).limit(1))
    if user is None or not user.active:
        raise click.ClickException(f"no active user {email}" if email else
                                   f"enterprise {enterprise.credit_code} has no active admin; pass --as EMAIL")
    return user


def outcome_text(line: ImportLine) -> str:
    """``line 7 ref L-0007 refused F7 tonnes: <message>``; cell and field only when known."""
    parts = [f"line {line.line}", f"ref {line.reference or '-'}", line.status]
    parts += [p for p in (line.cell, line.field) if p and line.status == "refused"]
    return " ".join(parts) + (f": {line.message}" if line.message else "")


@ledger_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--enterprise", "credit_code", required=True, help="The enterprise's unified social credit code.")
@click.option("--as", "email", default=None, help="Act as this user (default: the enterprise's first admin).")
def import_command(file: Path, credit_code: str, email: str | None) -> None:
    """Import ledger entries from FILE.xlsx (the platform's template) into one enterprise's ledger.

    Prints one line per row (added, skipped as an already recorded reference, or
    refused with cell and field) and a summary; commits the added lines once.

    Exit status: 0 every line added or skipped; 3 some lines refused (the others
    are recorded); 2 the file cannot be read (not an .xlsx, wrong columns, no
    lines; nothing recorded); 1 unknown enterprise or user, or not allowed.
    """
    enterprise = _enterprise(credit_code)
    actor = _actor(enterprise, email)
    try:
        rows = read_workbook(file.read_bytes())
    except ValidationFailed as refused:
        click.echo(f"unreadable file {file.name}: {refused.message}", err=True)
        click.get_current_context().exit(EXIT_UNREADABLE)
    try:
        report = import_rows(actor, enterprise.id, rows, EntrySource.IMPORT)
    except DomainError as refused:
        db.session.rollback()
        raise click.ClickException(refused.message) from None
    db.session.commit()
    for line in report.lines:
        click.echo(outcome_text(line))
    click.echo(f"added {report.added}, skipped {report.skipped}, refused {report.refused}")
    click.get_current_context().exit(EXIT_REFUSED if report.refused else EXIT_OK)


@ledger_cli.command("verify")
@click.option("--enterprise", "credit_code", default=None, help="Verify only this enterprise's chain.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Chains walked in parallel processes (default: one per CPU).")
def verify_command(credit_code: str | None, workers: int | None) -> None:
    """Walk every enterprise's hash chain and report the first broken entry of each.

    Prints ``OK <credit code> <n> entries head <hash>`` or
    ``BROKEN <credit code> entry <id> seq <seq>: <reason>`` per enterprise and a
    summary. Exit status: 0 every chain intact; 1 at least one chain broken (a
    row altered, removed or reordered outside the application).
    """
    ids = [_enterprise(credit_code).id] if credit_code else chain_store.chained_enterprises()
    codes = dict(db.session.execute(select(Enterprise.id, Enterprise.credit_code).where(Enterprise.id.in_(ids))).all())
    broken = 0
    for enterprise_id, report in chain_store.verify_all(ids, workers=workers or os.cpu_count() or 1):
        code = codes.get(enterprise_id, f"enterprise#{enterprise_id}")
        if report.ok:
            click.echo(f"OK {code} {report.count} entries head {report.head_hash}")
            continue
        broken += 1
        fault = report.broken
        where = f"entry {fault.id} seq {fault.seq}" if fault.id is not None else "no entries left"
        click.echo(f"BROKEN {code} {where}: {fault.reason.value} ({fault.message})")
    click.echo(f"{len(ids)} chains checked, {len(ids) - broken} intact, {broken} broken")
    click.get_current_context().exit(EXIT_FAILED if broken else EXIT_OK)
