"""Flask CLI commands: demo data, the ledger tools, the matcher (file interface, scheduled runs), backups."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo Ordos (enterprises, sites, users) once; a second run changes nothing."""
    from wasteex.demo.seed import seed_demo
    from wasteex.extensions import db

    if not current_app.config.get("SEED_DEMO_ALLOWED"):
        raise click.ClickException("seed-demo refuses to run in production.")
    created = seed_demo()
    db.session.commit()
    click.echo("Demo data created." if created else "Demo data already present; nothing changed.")


@click.command("match-run")
@with_appcontext
def match_run_command() -> None:
    """Start a city-wide matcher run (for cron or a systemd timer); queued on Redis when configured."""
    from wasteex.errors import Conflict
    from wasteex.extensions import db
    from wasteex.matching import jobs, runs
    from wasteex.matching.models import RunStatus

    try:
        run = runs.start(None)
    except Conflict as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    jobs.dispatch(run)
    if run.status is RunStatus.FAILED:
        raise click.ClickException(f"run {run.id} failed: {run.error}")
    click.echo(f"run {run.id}: {run.status.value}" + (
        f", {run.matched_kg / 1000:.3f} t matched in {len(run.proposals)} proposals, optimal={run.optimal}"
        if run.status is RunStatus.DONE else f" as job {run.job_id}"))


def register_commands(app: Flask) -> None:
    from wasteex.backup_cli import backup_cli
    from wasteex.ledger.cli import ledger_cli
    from wasteex.matching.cli import match_file_command
    from wasteex.transfers.follow_up import transfers_cli

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(match_file_command)
    app.cli.add_command(match_run_command)
    app.cli.add_command(backup_cli)
    app.cli.add_command(transfers_cli)
