from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from roughy.db import ID, Base, UTCDateTime, new_id, utcnow

ENTRY_TYPES = ("consume_asset", "topup", "refund", "adjustment", "expiry")


class LedgerEntry(Base):
    """One change of an account's credits. Append-only: the balance is the sum of the deltas."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_account_created", "account_id", "created_at"),
        # An asset is charged once, however often its processing runs.
        Index(
            "ux_ledger_asset_charge",
            "asset_id",
            unique=True,
            sqlite_where=text("type = 'consume_asset'"),
            postgresql_where=text("type = 'consume_asset'"),
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    delta: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
