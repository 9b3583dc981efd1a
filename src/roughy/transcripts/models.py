from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from roughy.db import ID, Base, UTCDateTime, utcnow

TRANSCRIPT_STATES = ("pending", "processing", "completed", "failed")


class Transcript(Base):
    """What was said in an asset, word by word: made once, read by every cut of the asset."""

    __tablename__ = "transcripts"

    asset_id: Mapped[str] = mapped_column(
        ID, ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    language: Mapped[str | None] = mapped_column(String(8))
    model: Mapped[str | None] = mapped_column(String(128))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    frame_rate: Mapped[float | None] = mapped_column(Float)  # of the video; None for audio
    # [{"text", "start", "end", "kind", "confidence"}], seconds as floats.
    words: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # RMS per 10 ms frame as little-endian float16: where the quiet moments are, for cut points.
    levels: Mapped[bytes | None] = mapped_column(LargeBinary)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
