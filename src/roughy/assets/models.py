from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from roughy.db import ID, Base, UTCDateTime, new_id, utcnow

ASSET_STATES = ("pending_upload", "processing", "pending_payment", "ready", "failed")


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (
        Index("ix_assets_account_created", "account_id", "created_at"),
        Index("ix_assets_project_created", "project_id", "created_at"),
        Index("ix_assets_state", "state"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ID, ForeignKey("projects.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(32), default="pending_upload")
    type: Mapped[str | None] = mapped_column(String(8))
    extension: Mapped[str | None] = mapped_column(String(16))
    content_type: Mapped[str | None] = mapped_column(String(128))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(2))
    filename: Mapped[str | None] = mapped_column(String(255))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
