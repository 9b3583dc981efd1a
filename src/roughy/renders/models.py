from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from roughy.db import ID, Base, UTCDateTime, new_id, utcnow

RENDER_STATES = ("pending", "processing", "completed", "failed", "cancelled")


class Render(Base):
    """A file made of an asset, whole or cut: one output (format, size, bitrates) of it."""

    __tablename__ = "renders"
    __table_args__ = (
        # A repeated POST of the same cut and output finds this render again (while it is open
        # or completed: a failed or cancelled one gives its key up, so it can be ordered again).
        UniqueConstraint("asset_id", "inputs_key", name="uq_renders_asset_inputs"),
        Index("ix_renders_account_created", "account_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ID, ForeignKey("projects.id", ondelete="CASCADE"))
    asset_id: Mapped[str] = mapped_column(ID, ForeignKey("assets.id", ondelete="CASCADE"))
    cut_id: Mapped[str | None] = mapped_column(ID, ForeignKey("cuts.id", ondelete="CASCADE"))
    # The output asked for, every field present (null: Auto), by its API names.
    output: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the cut and the output (renders.service.inputs_key); null once failed/cancelled.
    inputs_key: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
