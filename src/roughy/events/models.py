from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from roughy.db import ID, Base, UTCDateTime, new_id, utcnow


class Event(Base):
    """Something that happened, recorded with the change itself; webhooks deliver these.

    The id is the event's identity for receivers: one event per state reached, so a delivery
    repeated after a failure carries the same id.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_account_created", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(ID)
    asset_id: Mapped[str | None] = mapped_column(ID)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
