"""Notifications: the inbox, e-mail and per-enterprise webhooks (see ``service.notify``)."""
from __future__ import annotations

from flask import Flask


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark ``message`` for the catalogs without translating it now.

    Notification subjects are stored as message ids and translated when each
    reader sees them (``pybabel extract`` picks ``N_`` up by default).
    """
    return message


def init_app(app: Flask) -> None:
    """The pages, the unread badge, the ``notifications`` commands and the after-commit sending."""
    from wasteex.notifications import cli, outbox
    from wasteex.notifications.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(cli.notifications_cli)
    outbox.init_app(app)
