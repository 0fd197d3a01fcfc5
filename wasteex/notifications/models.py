"""Notifications: the in-app inbox, per-enterprise webhooks and the outbox of deliveries.

- ``Notification`` is one inbox row per recipient *user*: ``notify`` fans an
  enterprise's event out to its members when it happens, so read state is per
  person, "my inbox" and "my unread count" are one indexed query each, and a
  member who joins later does not inherit what was said before they joined.
- ``Webhook`` is an enterprise's HTTP endpoint, subscribed to some kinds. Its
  signing secret is stored encrypted (the keys of ``TOTP_ENCRYPTION_KEYS``):
  it has to be read back to sign, so it cannot be hashed.
- ``Delivery`` is the outbox: an e-mail or a webhook call written in the same
  transaction as the event, sent after the commit, retried with back-off.
  Its body is frozen when the event happens; retries send the same bytes.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, created_at, intpk, str120, str255, str_enum
from wasteex.extensions import db


class NotificationKind(enum.Enum):
    PROPOSAL_RECEIVED = "proposal_received"
    SLIP_TO_SIGN = "slip_to_sign"
    DISCREPANCY = "discrepancy"
    REVISION_REQUEST = "revision_request"
    SLIP_OVERDUE = "slip_overdue"
    WEBHOOK_DISABLED = "webhook_disabled"


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_inbox", "user_id", "id"),
        Index("ix_notification_unread", "user_id", "read_at"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    # Message ids (English source text with %(name)s placeholders filled from ``payload``),
    # translated when shown, so each reader sees them in their own language.
    subject: Mapped[str255]
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500))  # a path inside WasteEx
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    enterprise: Mapped["Enterprise | None"] = relationship()  # noqa: F821

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Webhook(db.Model):
    __tablename__ = "webhook"

    id: Mapped[intpk]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str120] = mapped_column(default="")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # NotificationKind values subscribed
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    secret_hint: Mapped[str] = mapped_column(String(16))  # the first characters, to tell secrets apart
    active: Mapped[bool] = mapped_column(default=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    enterprise: Mapped["Enterprise"] = relationship()  # noqa: F821
    deliveries: Mapped[list[Delivery]] = relationship(back_populates="webhook", cascade="all, delete-orphan",
                                                      passive_deletes=True)

    def subscribes(self, kind: NotificationKind) -> bool:
        return kind.value in self.kinds


class Channel(enum.Enum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.Enum):
    PENDING = "pending"  # waiting for its first attempt or a retry
    DELIVERED = "delivered"
    FAILED = "failed"  # given up after the last attempt


class Delivery(db.Model):
    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[intpk]
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, length=16))
    event_id: Mapped[str] = mapped_column(String(32), index=True)  # shared by every delivery of one event
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(255), default="")  # the e-mail address
    subject: Mapped[str] = mapped_column(String(300), default="")  # of the e-mail
    body: Mapped[str] = mapped_column(Text)  # the e-mail's text, or the webhook's JSON
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, length=16),
                                                   default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None]  # the HTTP status of the last answer, if there was one
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    webhook: Mapped[Webhook | None] = relationship(back_populates="deliveries")
