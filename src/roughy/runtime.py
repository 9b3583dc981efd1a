"""What a running process holds: settings, database, blob store, upload locks and the job queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from roughy import migrate
from roughy.config import Settings
from roughy.db import Database
from roughy.events import service as events
from roughy.queue.jobqueue import JobQueue
from roughy.storage.base import BlobStore
from roughy.storage.factory import open_files, open_store
from roughy.storage.files import ObjectFiles
from roughy.uploads.locks import Leases, UploadLocks


@dataclass
class Runtime:
    settings: Settings
    db: Database
    store: BlobStore
    files: ObjectFiles  # local files of objects, for the jobs' tools
    jobs: JobQueue
    locks: UploadLocks = field(default_factory=UploadLocks)
    # What else the process opened on this runtime (e.g. a webhook sender), closed first.
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.on_close):
            close()
        self.jobs.close()
        self.db.dispose()


def build_runtime(settings: Settings, register_jobs: Callable[[JobQueue], None]) -> Runtime:
    """Open the configured parts, migrating the database to the code's schema first; the
    queue gets its jobs from ``register_jobs`` (``roughy.jobs.register_jobs``: the top floor,
    which knows every resource, passes it down)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url)
    jobs = JobQueue(settings)
    register_jobs(jobs)
    store = open_store(settings)
    runtime = Runtime(
        settings=settings,
        db=Database(settings.resolved_database_url),
        store=store,
        files=open_files(settings, store),
        jobs=jobs,
        # With Redis, uploads are held across nodes too (a lease with a fencing token).
        locks=UploadLocks(Leases(settings.redis_url, settings.queue_name))
        if settings.redis_url
        else UploadLocks(),
    )
    # Each committed event is published (events.RECORDED): the job list says who delivers it.
    runtime.db.sessions.configure(
        info={events.ANNOUNCE: lambda event_id: jobs.publish(runtime, events.RECORDED, event_id)}
    )
    return runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
