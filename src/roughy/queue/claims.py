"""Claims on jobs: at most one worker runs a job on an entity, and a dead worker's job runs again.

The queue hands a task to one worker and forgets it, so the claim is what survives a worker
that dies mid-job, or a job lost on its way to the queue: a row written with the change that
makes the job owed (``expect``), taken and renewed while the job runs, deleted when it is done.
When it lapses, housekeeping queues the job again (``requeue``), and the next worker claims it
with one more attempt counted.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from roughy.db import Database, new_id, upsert_into, utcnow
from roughy.queue.models import JobClaim

log = logging.getLogger("roughy.jobs")

HOST = socket.gethostname()[:24].replace("/", "-")


@dataclass(frozen=True)
class Claim:
    job: str
    key: str
    holder: str
    attempt: int


def _upsert(session: Session, **values: Any) -> Any:
    return upsert_into(session, JobClaim).values(**values)


def _holder() -> str:
    """Who holds a claim: this machine and process, then a unique part."""
    return f"{HOST}/{os.getpid()}/{new_id()}"


def claim(session: Session, job: str, key: str, lease: float) -> Claim | None:
    """Take the job unless another worker holds a live claim; counts the attempt."""
    now = utcnow()
    holder = _holder()
    stmt = _upsert(
        session,
        job=job,
        key=key,
        holder=holder,
        expires_at=now + timedelta(seconds=lease),
        attempts=1,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["job", "key"],
        set_={
            "holder": holder,
            "expires_at": now + timedelta(seconds=lease),
            "attempts": JobClaim.attempts + 1,
        },
        where=or_(JobClaim.holder.is_(None), JobClaim.expires_at < now),
    ).returning(JobClaim.attempts)
    attempt = session.execute(stmt).scalar_one_or_none()
    return None if attempt is None else Claim(job, key, holder, attempt)


def renew(session: Session, held: Claim, lease: float) -> bool:
    """Push the claim's expiry out; False when it was lost (lapsed and taken by another)."""
    result = session.execute(
        update(JobClaim)
        .where(JobClaim.job == held.job, JobClaim.key == held.key, JobClaim.holder == held.holder)
        .values(expires_at=utcnow() + timedelta(seconds=lease))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(session: Session, held: Claim) -> None:
    """The job is done: the claim and its attempt count go."""
    session.execute(
        delete(JobClaim).where(
            JobClaim.job == held.job, JobClaim.key == held.key, JobClaim.holder == held.holder
        )
    )


def give_up(session: Session, held: Claim, retry_within: float) -> None:
    """The attempt failed: anyone may claim it again at once; the count stays."""
    session.execute(
        update(JobClaim)
        .where(JobClaim.job == held.job, JobClaim.key == held.key, JobClaim.holder == held.holder)
        .values(holder=None, expires_at=utcnow() + timedelta(seconds=retry_within))
    )


def expect(session: Session, job: str, key: str, within: float) -> None:
    """Record, in the caller's transaction, that the job is owed and should start ``within``."""
    stmt = _upsert(
        session,
        job=job,
        key=key,
        holder=None,
        expires_at=utcnow() + timedelta(seconds=within),
        attempts=0,
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["job", "key"]))


def lapsed(session: Session, limit: int = 500) -> list[tuple[str, str]]:
    """(job, key) of claims past their expiry: the worker died, or the queued job was lost."""
    rows = session.execute(
        select(JobClaim.job, JobClaim.key).where(JobClaim.expires_at < utcnow()).limit(limit)
    )
    return [(job, key) for job, key in rows]


def lapse_dead_holders(session: Session) -> int:
    """Claims held by processes of this machine that no longer exist lapse now, not at expiry:
    a worker restarted beside a killed one takes its jobs over at once."""
    now = utcnow()
    held = session.execute(
        select(JobClaim.job, JobClaim.key, JobClaim.holder).where(
            JobClaim.holder.like(f"{HOST}/%"), JobClaim.expires_at >= now
        )
    )
    lapsed = 0
    mine = f"{HOST}/"
    for job, key, holder in held:
        if holder is None or not holder.startswith(mine) or _alive(int(holder.split("/")[1])):
            continue
        result = session.execute(
            update(JobClaim)
            .where(JobClaim.job == job, JobClaim.key == key, JobClaim.holder == holder)
            .values(expires_at=now)
        )
        lapsed += result.rowcount  # type: ignore[attr-defined]
    return lapsed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, under another user
    return True


def requeue(session: Session, job: str, key: str, patience: float) -> bool:
    """Mark a stalled job as queued again; True for the one caller that should enqueue it."""
    now = utcnow()
    stmt = _upsert(
        session,
        job=job,
        key=key,
        holder=None,
        expires_at=now + timedelta(seconds=patience),
        attempts=0,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["job", "key"],
        set_={"holder": None, "expires_at": now + timedelta(seconds=patience)},
        where=JobClaim.expires_at < now,
    ).returning(JobClaim.key)
    return session.execute(stmt).scalar_one_or_none() is not None


@contextmanager
def holding(db: Database, job: str, key: str, lease: float) -> Iterator[Claim | None]:
    """Claim the job for the length of the block, renewing it in the background.

    Yields None when another worker holds it. A block that raises leaves the job free to be
    claimed again (by the queue's retry); one that returns marks it finished.
    """
    with db.session() as session:
        held = claim(session, job, key, lease)
    if held is None:
        yield None
        return
    stop = threading.Event()
    renewer = threading.Thread(
        target=_keep_renewing, args=(db, held, lease, stop), name=f"claim-{job}", daemon=True
    )
    renewer.start()
    try:
        yield held
    except BaseException:
        stop.set()
        renewer.join()
        with db.session() as session:
            give_up(session, held, retry_within=lease)
        raise
    stop.set()
    renewer.join()
    with db.session() as session:
        finish(session, held)


def _keep_renewing(db: Database, held: Claim, lease: float, stop: threading.Event) -> None:
    while not stop.wait(lease / 3):
        try:
            with db.session() as session:
                if not renew(session, held, lease):
                    log.warning("job claim lost", extra={"job": held.job, "key": held.key})
                    return
        except Exception:
            log.exception("job claim not renewed", extra={"job": held.job, "key": held.key})
