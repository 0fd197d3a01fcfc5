"""Proposals (撮合建议) and agreements (委托利用协议).

A proposal pairs one offer with one demand for some kilograms: made by a
matcher run, or directly by one party from a listing's page. Each side
decides once; when both have accepted, an agreement is written and its
kilograms are taken from both listings' ``remaining_kg`` in the same
transaction, by conditional UPDATEs that cannot go below zero.

Agreements carry the two enterprises denormalised, so "my agreements" is one
indexed query for either party, and ``remaining_kg`` — what transfer slips
may still ship against it.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, created_at, intpk, str_enum
from wasteex.extensions import db


class Decision(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ProposalStatus(enum.Enum):
    PENDING = "pending"  # waiting for one side or both
    AGREED = "agreed"  # both accepted: an agreement exists
    DECLINED = "declined"  # one side declined
    WITHDRAWN = "withdrawn"  # replaced by a newer run, or a listing closed


class Side(enum.Enum):
    """The two parties of a proposal: the offer's producer and the demand's utiliser."""

    OFFER = "offer"
    DEMAND = "demand"


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint("kg > 0", name="kg_positive"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        UniqueConstraint("run_id", "offer_id", "demand_id")  # one proposal per pair per run,
    )

    id: Mapped[intpk]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("match_run.id"), index=True)  # None: direct
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demand.id"), index=True)
    offer_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    demand_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    kg: Mapped[int] = mapped_column(BigInteger)
    metres: Mapped[int]
    price_per_t: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    explanation: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus), default=ProposalStatus.PENDING,
                                                   index=True)
    offer_decision: Mapped[Decision] = mapped_column(str_enum(Decision), default=Decision.PENDING)
    offer_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    offer_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_reason: Mapped[str] = mapped_column(Text, default="")
    demand_decision: Mapped[Decision] = mapped_column(str_enum(Decision), default=Decision.PENDING)
    demand_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    demand_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    demand_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    run: Mapped["MatchRun | None"] = relationship(back_populates="proposals")  # noqa: F821
    offer: Mapped["Offer"] = relationship()  # noqa: F821
    demand: Mapped["Demand"] = relationship()  # noqa: F821
    agreement: Mapped["Agreement | None"] = relationship(back_populates="proposal")

    def decision_of(self, side: Side) -> Decision:
        return self.offer_decision if side is Side.OFFER else self.demand_decision

    def reason_of(self, side: Side) -> str:
        return self.offer_reason if side is Side.OFFER else self.demand_reason

    def enterprise_of(self, side: Side) -> int:
        return self.offer_enterprise_id if side is Side.OFFER else self.demand_enterprise_id

    @property
    def km(self) -> Decimal:
        return Decimal(self.metres) / 1000


class AgreementStatus(enum.Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Agreement(db.Model):
    __tablename__ = "agreement"
    __table_args__ = (
        CheckConstraint("kg > 0", name="kg_positive"),
        CheckConstraint("remaining_kg >= 0 AND remaining_kg <= kg", name="remaining_within_kg"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
    )

    id: Mapped[intpk]
    contract_no: Mapped[str] = mapped_column(String(32), unique=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demand.id"), index=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    utiliser_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    sw_code: Mapped[str] = mapped_column(String(4))
    kg: Mapped[int] = mapped_column(BigInteger)
    remaining_kg: Mapped[int] = mapped_column(BigInteger)  # not yet planned on transfer slips
    price_per_t: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[AgreementStatus] = mapped_column(str_enum(AgreementStatus), default=AgreementStatus.ACTIVE,
                                                    index=True)
    created_at: Mapped[created_at]

    proposal: Mapped[Proposal] = relationship(back_populates="agreement")
    offer: Mapped["Offer"] = relationship()  # noqa: F821
    demand: Mapped["Demand"] = relationship()  # noqa: F821
    producer: Mapped["Enterprise"] = relationship(foreign_keys=[producer_id])  # noqa: F821
    utiliser: Mapped["Enterprise"] = relationship(foreign_keys=[utiliser_id])  # noqa: F821
