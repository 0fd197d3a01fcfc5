"""Follow-up of late slips: ``flask --app wasteex transfers follow-up``, run by cron (say hourly).

Each newly overdue slip (``queries.flagged_slips``: not received SLIP_TRANSIT_HOURS after
dispatch, or no operation SLIP_OPERATION_DAYS after reception) is announced once per
kind of lateness to its producer and its receiver; regulators see every flagged slip in
their worklist (the anomaly scan) without being notified one by one.
"""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from wasteex.database import utcnow
from wasteex.extensions import db
from wasteex.notifications import N_
from wasteex.notifications.models import NotificationKind
from wasteex.notifications.service import notify
from wasteex.transfers.announce import payload, url_of
from wasteex.transfers.queries import Flag, Flagged, flagged_slips

OVERDUE_SUBJECTS = {
    Flag.OVERDUE_IN_TRANSIT: N_("Slip %(number)s is overdue: dispatched but not received in time"),
    Flag.OVERDUE_OPERATION: N_("Slip %(number)s is overdue: received but no utilisation or disposal signed"),
}


def announce_overdue(flagged: list[Flagged], now: datetime) -> int:
    """Tell producer and receiver of each newly overdue slip, once per kind of lateness; how many were told."""
    told = 0
    for item in flagged:
        slip = item.slip
        for flag in item.flags:
            if flag not in OVERDUE_SUBJECTS or flag.value in slip.announced_flags:
                continue
            for enterprise_id in (slip.producer_id, slip.receiver_id):
                notify(enterprise_id, NotificationKind.SLIP_OVERDUE, OVERDUE_SUBJECTS[flag], url_of(slip),
                       payload(slip, flag=flag.value, checked_at=now.isoformat(timespec="minutes")))
            slip.announced_flags = [*slip.announced_flags, flag.value]
            told += 1
    return told


transfers_cli = AppGroup("transfers", help="Transfer slips: follow-up of late slips.")


@transfers_cli.command("follow-up")
def follow_up_command() -> None:
    """Announce newly overdue slips to their parties (idempotent: each lateness once)."""
    now = utcnow()
    told = announce_overdue(flagged_slips(now), now)
    db.session.commit()
    click.echo(f"{told} overdue slip notice(s) sent")
