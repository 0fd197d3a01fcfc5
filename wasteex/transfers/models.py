"""Transfer slips (转移联单): one shipment or batch of loads under an agreement.

The slip row holds the current value of every section; sections freeze as
their signatures are stored (``TransferSignature``: who, when, from where, and
the ledger entries the signature wrote). After publication nothing is edited
in place: a ``SlipRevision`` records the requested change with the old and
new values, and only the counterparty's approval applies it.

The parties are denormalised on the slip (producer, receiver, author) and on
the legs (carriers) so "my slips" is an indexed query for any of them.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, created_at, intpk, str_enum
from wasteex.extensions import db
from wasteex.transfers.states import Acceptance, Act, SlipStatus


class TransferSlip(db.Model):
    __tablename__ = "transfer_slip"
    __table_args__ = (
        CheckConstraint("planned_kg > 0", name="planned_positive"),
        CheckConstraint("dispatched_kg IS NULL OR dispatched_kg > 0", name="dispatched_positive"),
        CheckConstraint("received_kg IS NULL OR received_kg >= 0", name="received_not_negative"),
        CheckConstraint("refused_kg IS NULL OR (refused_kg >= 0 AND refused_kg <= received_kg)",
                        name="refused_within_received"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(24), unique=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id"), index=True)
    contract_no: Mapped[str] = mapped_column(String(32))
    producer_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    receiver_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))  # producer or receiver
    stream_id: Mapped[int] = mapped_column(ForeignKey("waste_stream.id"), index=True)
    sw_code: Mapped[str] = mapped_column(String(4))
    origin_site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    destination_site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id"))  # the utilisation/disposal route agreed
    status: Mapped[SlipStatus] = mapped_column(str_enum(SlipStatus), default=SlipStatus.DRAFT, index=True)

    # Plan (frozen at the emission signature; revisable before it). Carriers, plates and drivers are on the legs.
    planned_kg: Mapped[int] = mapped_column(BigInteger)
    planned_on: Mapped[date] = mapped_column(Date)
    itinerary: Mapped[str] = mapped_column(Text, default="")  # the road taken, in words

    # Emission section (producer).
    dispatched_kg: Mapped[int | None] = mapped_column(BigInteger)
    dispatched_on: Mapped[date | None] = mapped_column(Date)
    emission_handler: Mapped[str | None] = mapped_column(String(120))
    emitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    # Reception section (receiver).
    received_kg: Mapped[int | None] = mapped_column(BigInteger)
    refused_kg: Mapped[int | None] = mapped_column(BigInteger)
    acceptance: Mapped[Acceptance | None] = mapped_column(str_enum(Acceptance))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    received_on: Mapped[date | None] = mapped_column(Date)
    reception_handler: Mapped[str | None] = mapped_column(String(120))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    discrepancy_kg: Mapped[int | None] = mapped_column(BigInteger)  # received − dispatched beyond tolerance
    legs_unsigned: Mapped[int] = mapped_column(Integer, default=0)  # carrier legs skipped at reception
    announced_flags: Mapped[list[str]] = mapped_column(JSON, default=list)  # follow-up flags already notified

    # Operation section (receiver).
    operation_route_id: Mapped[int | None] = mapped_column(ForeignKey("route.id"))
    operated_on: Mapped[date | None] = mapped_column(Date)
    product: Mapped[str | None] = mapped_column(String(255))
    operation_handler: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agreement: Mapped["Agreement"] = relationship()  # noqa: F821
    producer: Mapped["Enterprise"] = relationship(foreign_keys=[producer_id])  # noqa: F821
    receiver: Mapped["Enterprise"] = relationship(foreign_keys=[receiver_id])  # noqa: F821
    stream: Mapped["WasteStream"] = relationship()  # noqa: F821
    origin_site: Mapped["Site"] = relationship(foreign_keys=[origin_site_id])  # noqa: F821
    destination_site: Mapped["Site"] = relationship(foreign_keys=[destination_site_id])  # noqa: F821
    route: Mapped["Route"] = relationship(foreign_keys=[route_id])  # noqa: F821
    operation_route: Mapped["Route | None"] = relationship(foreign_keys=[operation_route_id])  # noqa: F821
    legs: Mapped[list[TransferLeg]] = relationship(back_populates="slip", order_by="TransferLeg.position",
                                                   cascade="all, delete-orphan")
    signatures: Mapped[list[TransferSignature]] = relationship(
        back_populates="slip", order_by="TransferSignature.id", cascade="all, delete-orphan")
    revisions: Mapped[list[SlipRevision]] = relationship(back_populates="slip", order_by="SlipRevision.id",
                                                         cascade="all, delete-orphan")

    @property
    def legs_signed(self) -> int:
        return sum(1 for leg in self.legs if leg.signed_at is not None)

    @property
    def accepted_kg(self) -> int | None:
        if self.received_kg is None:
            return None
        return self.received_kg - (self.refused_kg or 0)


class TransferLeg(db.Model):
    """One carrier's part of the journey; legs are signed in ``position`` order."""

    __tablename__ = "transfer_leg"
    __table_args__ = (UniqueConstraint("slip_id", "position"),)

    id: Mapped[intpk]
    slip_id: Mapped[int] = mapped_column(ForeignKey("transfer_slip.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, …
    carrier_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    plates: Mapped[list[str]] = mapped_column(JSON)
    driver: Mapped[str] = mapped_column(String(120))
    taken_over_on: Mapped[date | None] = mapped_column(Date)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    slip: Mapped[TransferSlip] = relationship(back_populates="legs")
    carrier: Mapped["Enterprise"] = relationship()  # noqa: F821


class TransferSignature(db.Model):
    """A signature: the act, the signer, when and from where, and the ledger lines it wrote.

    Unique per (slip, act, leg): of two concurrent signatures of one section
    exactly one can be stored.
    """

    __tablename__ = "transfer_signature"
    __table_args__ = (UniqueConstraint("slip_id", "act", "leg_position"),)

    id: Mapped[intpk]
    slip_id: Mapped[int] = mapped_column(ForeignKey("transfer_slip.id", ondelete="CASCADE"), index=True)
    act: Mapped[Act] = mapped_column(str_enum(Act))
    leg_position: Mapped[int] = mapped_column(Integer, default=0)  # 0 except for transport
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    signer_name: Mapped[str] = mapped_column(String(120))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    section: Mapped[dict] = mapped_column(JSON, default=dict)  # the frozen values, as signed
    ledger_entry_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    slip: Mapped[TransferSlip] = relationship(back_populates="signatures")
    enterprise: Mapped["Enterprise"] = relationship()  # noqa: F821


class RevisionStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class SlipRevision(db.Model):
    """A requested correction (``changes``: field → [old, new]) or cancellation, and its outcome."""

    __tablename__ = "slip_revision"

    id: Mapped[intpk]
    slip_id: Mapped[int] = mapped_column(ForeignKey("transfer_slip.id", ondelete="CASCADE"), index=True)
    cancel: Mapped[bool] = mapped_column(default=False)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    requested_at: Mapped[created_at]
    approver_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    status: Mapped[RevisionStatus] = mapped_column(str_enum(RevisionStatus), default=RevisionStatus.PENDING,
                                                   index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")
    ledger_entry_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    slip: Mapped[TransferSlip] = relationship(back_populates="revisions")


class SlipTag(db.Model):
    """An enterprise's own reference for a slip (its ERP number), private to that enterprise."""

    __tablename__ = "slip_tag"
    __table_args__ = (UniqueConstraint("enterprise_id", "reference"),)

    slip_id: Mapped[int] = mapped_column(ForeignKey("transfer_slip.id", ondelete="CASCADE"), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    reference: Mapped[str] = mapped_column(String(64))
