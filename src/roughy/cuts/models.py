from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from roughy.db import ID, Base, UTCDateTime, new_id, utcnow

CUT_STATES = ("pending", "processing", "completed", "failed")


class Cut(Base):
    """The plan of what to keep of an asset, for one script (or none)."""

    __tablename__ = "cuts"
    __table_args__ = (
        # A repeated POST of the same script and options on the same asset finds this cut again.
        UniqueConstraint("asset_id", "inputs_key", name="uq_cuts_asset_inputs"),
        Index("ix_cuts_account_created", "account_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ID, ForeignKey("projects.id", ondelete="CASCADE"))
    asset_id: Mapped[str] = mapped_column(ID, ForeignKey("assets.id", ondelete="CASCADE"))
    script: Mapped[str | None] = mapped_column(Text)
    # The options it is decided with, every one resolved (the request's over the server's
    # defaults), by their API names: cuts.schemas.CutOptionsOut.
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the script and the options (cuts.service.inputs_key).
    inputs_key: Mapped[str] = mapped_column(String(64))
    # A reviewer's choices applied over the decision (schemas.OverrideIn as dicts, in order);
    # None for a cut made without any.
    overrides: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # [[start, end], ...] in seconds on the source timeline, once completed.
    segments: Mapped[list[list[float]] | None] = mapped_column(JSON)
    kept_ms: Mapped[int | None] = mapped_column(Integer)
    # Every word and pause with keep/drop and its reason (speech.types.Decision as dicts).
    decisions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    missing_lines: Mapped[list[int] | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
