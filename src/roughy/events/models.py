from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from roughy.db import ID, Base, UTCDateTime, new_id, utcnow

_UNDISPATCHED = text("dispatched_at IS NULL")


class Event(Base):
    """Something that happened, recorded with the change itself; webhooks deliver these.

    The id is the event's identity for receivers: one event per state reached, so a delivery
    repeated after a failure carries the same id. ``dispatched_at`` is set once the event has
    been handed to its webhook endpoints (a delivery row each); until then the outbox's relay
    finds it again.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_account_created", "account_id", "created_at"),
        Index(
            "ix_events_undispatched",
            "created_at",
            postgresql_where=_UNDISPATCHED,
            sqlite_where=_UNDISPATCHED,
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(ID)
    asset_id: Mapped[str | None] = mapped_column(ID)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
