"""E-mail through SMTP (stdlib ``smtplib`` and ``email.message``), off until ``MAIL_SERVER`` is set.

One connection per message: notifications are few and an SMTP session that
broke halfway must not take the next message with it. ``MAIL_USE_TLS`` means
STARTTLS on the plain port (587 or 25); credentials are sent only after it.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from flask import current_app


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    timeout: float = 10

    @classmethod
    def from_config(cls) -> MailSettings | None:
        """The app's settings, or None when e-mail is off."""
        config = current_app.config
        if not config.get("MAIL_SERVER"):
            return None
        return cls(server=config["MAIL_SERVER"], port=int(config["MAIL_PORT"]), sender=config["MAIL_SENDER"],
                   username=config.get("MAIL_USERNAME") or None, password=config.get("MAIL_PASSWORD") or None,
                   use_tls=bool(config["MAIL_USE_TLS"]), timeout=float(config["MAIL_TIMEOUT_SECONDS"]))


def enabled() -> bool:
    return MailSettings.from_config() is not None


def message(settings: MailSettings, recipient: str, subject: str, text: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = recipient
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain=parseaddr(settings.sender)[1].rpartition("@")[2] or None)
    mail.set_content(text)  # UTF-8, so Chinese subjects and bodies arrive intact
    return mail


def send(settings: MailSettings, recipient: str, subject: str, text: str) -> None:
    """Hand one message to the SMTP server; raises ``OSError`` or ``smtplib.SMTPException`` on failure."""
    with smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout) as smtp:
        if settings.use_tls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message(settings, recipient, subject, text))
