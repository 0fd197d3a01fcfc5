"""The append-only ledger: entries chained per enterprise, the chain heads, monthly totals."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wasteex.database import UTCDateTime, intpk, str_enum
from wasteex.extensions import db
from wasteex.geo import Base


class EntryKind(enum.Enum):
    """What happened to the waste (MEE ledger guide 附表3–7, plus the receiving side)."""

    GENERATION = "generation"                        # 产生
    STORAGE_IN = "storage_in"                        # 贮存（入库）
    STORAGE_OUT = "storage_out"                      # 贮存（出库）
    SELF_UTILISATION = "self_utilisation"            # 自行利用
    SELF_DISPOSAL = "self_disposal"                  # 自行处置
    ENTRUSTED_UTILISATION = "entrusted_utilisation"  # 委托利用（外送）
    ENTRUSTED_DISPOSAL = "entrusted_disposal"        # 委托处置（外送）
    DUMPED = "dumped"                                # 倾倒丢弃
    RECEIVED = "received"                            # 接收（利用单位）
    RECEIVED_UTILISED = "received_utilised"          # 接收后利用（利用单位）
    RECEIVED_DISPOSED = "received_disposed"          # 接收后处置（利用单位）
    RETURNED = "returned"                            # 拒收退回（产废单位）: refused tonnes back into storage
    # Never an entry's kind: the monthly totals' bucket for a producer's entrusted shipment that the
    # receiver has not yet signed as utilised or disposed ("counted where it really happens").
    IN_TRANSIT = "in_transit"


class EntrySource(enum.Enum):
    FORM = "form"
    IMPORT = "import"
    API = "api"
    TRANSFER = "transfer"
    CORRECTION = "correction"


class LedgerChain(db.Model):
    """One row per enterprise: the head of its chain. Appends lock it by updating it first."""

    __tablename__ = "ledger_chain"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "seq"),
        CheckConstraint("quantity_kg <> 0", name="quantity_not_zero"),
        Index("ix_ledger_entry_enterprise_reference", "enterprise_id", "reference", unique=True),
        Index("ix_ledger_entry_enterprise_period", "enterprise_id", "period_date"),
        # What a registered enterprise received: senders' shipments naming its credit code.
        Index("ix_ledger_entry_counterparty_period", "counterparty_credit_code", "period_date"),
    )

    id: Mapped[intpk]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind))
    stream_id: Mapped[int | None] = mapped_column(ForeignKey("waste_stream.id"), index=True)
    sw_code: Mapped[str] = mapped_column(String(4))
    period_date: Mapped[date] = mapped_column(Date)
    # Signed: a reversing correction carries the negated quantity of what it reverses.
    quantity_kg: Mapped[int] = mapped_column(BigInteger)
    from_prior_storage: Mapped[bool] = mapped_column(Boolean, default=False)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    route_id: Mapped[int | None] = mapped_column(ForeignKey("route.id"))
    handler: Mapped[str] = mapped_column(String(120))
    counterparty_name: Mapped[str | None] = mapped_column(String(255))
    counterparty_credit_code: Mapped[str | None] = mapped_column(String(18))
    carrier_name: Mapped[str | None] = mapped_column(String(255))
    plate_number: Mapped[str | None] = mapped_column(String(16))
    contract_number: Mapped[str | None] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(255))
    reference: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[EntrySource] = mapped_column(str_enum(EntrySource))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    canonical: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    stream: Mapped["WasteStream | None"] = relationship()  # noqa: F821
    facility: Mapped["Facility | None"] = relationship()  # noqa: F821
    route: Mapped["Route | None"] = relationship()  # noqa: F821
    recorded_by: Mapped["User | None"] = relationship()  # noqa: F821
    corrects: Mapped[LedgerEntry | None] = relationship(remote_side="LedgerEntry.id")


class MonthlyTotal(db.Model):
    """Running totals per enterprise × stream × month × kind, kept in the append's transaction.

    Rates and flow summaries read these (a few thousand rows a year) instead of
    scanning millions of entries; they can always be rebuilt from the entries.
    """

    __tablename__ = "ledger_monthly_total"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "stream_key", "sw_code", "year", "month", "kind", "from_prior_storage"),
        Index("ix_ledger_monthly_total_year_base", "year", "base"),
    )

    id: Mapped[intpk]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    # 0 for entries without a stream (the receiving side): keeps the unique key NULL-free.
    stream_key: Mapped[int] = mapped_column(Integer)
    sw_code: Mapped[str] = mapped_column(String(4))
    base: Mapped[Base] = mapped_column(str_enum(Base))
    division_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind))
    from_prior_storage: Mapped[bool] = mapped_column(Boolean)
    quantity_kg: Mapped[int] = mapped_column(BigInteger)
