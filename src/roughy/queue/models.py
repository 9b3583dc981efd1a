from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from roughy.db import Base, UTCDateTime


class JobClaim(Base):
    """Who runs a job on an entity, until when; the row outlives a worker that dies mid-job.

    ``holder`` set: a worker runs it and renews ``expires_at``. ``holder`` empty: the job is
    queued again and should have started by ``expires_at``. No row: nobody has claimed it yet.
    """

    __tablename__ = "job_claims"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
