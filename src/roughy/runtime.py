"""What a running process holds: settings, database, blob store, locks and job runner."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from roughy.config import Settings
from roughy.db import Database
from roughy.jobs.queue import JobRunner
from roughy.storage.base import BlobStore
from roughy.uploads.locks import UploadLocks


@dataclass
class Runtime:
    settings: Settings
    db: Database
    store: BlobStore
    jobs: JobRunner
    locks: UploadLocks = field(default_factory=UploadLocks)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
