"""``flask --app wasteex notifications deliver``: send the due e-mails and webhook calls.

Run it every minute (cron, a systemd timer): it makes the retries, and sends
what was notified outside a request when there is no Redis.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup

notifications_cli = AppGroup("notifications", help="The notification outbox.")


@notifications_cli.command("deliver")
@click.option("--limit", default=1000, show_default=True, help="Send at most this many deliveries.")
def deliver_command(limit: int) -> None:
    """Send every due delivery once. A receiver that fails is not the command failing: exit 0, errors on stderr."""
    from wasteex.notifications.delivery import deliver_due

    report = deliver_due(limit=limit)
    click.echo(f"{report.delivered} delivered, {report.retrying} to retry later, {report.failed} given up")
    for error in report.errors:
        click.echo(error, err=True)
