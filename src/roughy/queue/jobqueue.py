"""The job queue: Huey on SQLite in the data dir (embedded default) or on Redis (scale-out).

Every process builds the same queue with the same jobs registered: API processes only enqueue,
``roughy worker`` (on its own, or beside ``roughy serve``) runs them. A job is a plain function
``fn(runtime, *args)``; the queue passes the worker's runtime in.

The queue also carries the product's subscriptions: a job that finishes something publishes a
topic, and whatever the job list subscribed to it runs then (a finished transcript wakes the cuts
waiting on it), so that a resource need not know who waits for it.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from sqlalchemy import event
from sqlalchemy.orm import Session

from roughy.config import Settings
from roughy.queue import claims

if TYPE_CHECKING:
    from roughy.runtime import Runtime

P = ParamSpec("P")
Job = Callable[..., Any]
KeyedJob = Callable[["Runtime", str], object]
Handler = Callable[..., object]  # handler(runtime, *args) of a published topic
Loop = Callable[["Runtime", threading.Event], None]  # loop(runtime, stop) beside the jobs

log = logging.getLogger("roughy.jobs")

# An owed job not started after this many leases is taken for lost and queued again.
PATIENCE_LEASES = 10


class JobQueue:
    def __init__(self, settings: Settings) -> None:
        self.huey: Any = _connect(settings)
        self.lease = settings.job_lease_seconds
        self.patience = settings.job_lease_seconds * PATIENCE_LEASES
        self._tasks: dict[Job, Any] = {}
        self._by_name: dict[str, Job] = {}
        self._runtime: Runtime | None = None
        self._subscribers: dict[str, list[Handler]] = {}
        self.periodic: list[Job] = []
        self.loops: list[Loop] = []

    def register(
        self,
        fn: Job,
        *,
        retries: int = 2,
        retry_delay: int = 5,
        priority: int = 0,
        periodic: bool = False,
    ) -> None:
        """Make ``fn`` runnable by name in every process that registers it the same way;
        ``periodic``: every worker queues ``fn(runtime)`` each reaper interval."""

        def run(*args: Any) -> None:
            if self._runtime is None:
                raise RuntimeError("jobs run only in a worker bound to a runtime")
            fn(self._runtime, *args)

        task = self.huey.task(
            name=fn.__name__, retries=retries, retry_delay=retry_delay, priority=priority
        )
        self._tasks[fn] = task(run)
        self._by_name[fn.__name__] = fn
        if periodic:
            self.periodic.append(fn)

    def register_loop(self, fn: Loop) -> None:
        """Run ``fn(runtime, stop)`` on a thread of its own in every worker, from its start;
        it returns once ``stop`` is set (the worker is stopping)."""
        self.loops.append(fn)

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Run ``handler(runtime, *args)`` whenever ``topic`` is published in this process."""
        self._subscribers.setdefault(topic, []).append(handler)

    def publish(self, rt: Runtime, topic: str, *args: object) -> None:
        """Run the handlers of ``topic`` now, in order; an error goes to the caller."""
        for handler in self._subscribers.get(topic, ()):
            handler(rt, *args)

    def named(self, name: str) -> Job | None:
        return self._by_name.get(name)

    def bind(self, runtime: Runtime) -> None:
        """The runtime jobs run with in this process (a worker's own)."""
        self._runtime = runtime

    def submit(
        self, fn: Callable[Concatenate[Runtime, P], object], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        """Queue ``fn(runtime, *args)``; it runs once a worker is free. Blocks for the write."""
        if kwargs:
            raise TypeError("jobs take positional arguments only")
        self._tasks[fn](*args)

    @property
    def in_worker(self) -> bool:
        """This process runs jobs (it is a worker), not only queues them."""
        return self._runtime is not None

    def submit_on_commit(self, session: Session, fn: KeyedJob, key: str) -> None:
        """Queue ``fn(runtime, key)`` once ``session`` commits, and record in that transaction
        that the job is owed: if it is lost on the way, housekeeping queues it again."""
        claims.expect(session, fn.__name__, key, self.patience)

        def enqueue(_: Session) -> None:
            try:
                self._tasks[fn](key)
            except Exception:
                log.exception("job not queued; housekeeping will", extra={"job": fn.__name__})

        event.listen(session, "after_commit", enqueue, once=True)

    def pending(self) -> int:
        return int(self.huey.pending_count())

    def close(self) -> None:
        self.huey.storage.close()


def _connect(settings: Settings) -> Any:
    huey = _import_huey(with_redis=bool(settings.redis_url))
    if settings.redis_url:
        # The priority flavour keeps housekeeping from waiting behind long jobs.
        return huey.PriorityRedisHuey(settings.queue_name, url=settings.redis_url, results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return huey.SqliteHuey(
        settings.queue_name, filename=str(settings.queue_path), results=False, fsync=True
    )


def _import_huey(*, with_redis: bool) -> ModuleType:
    """Huey, without the clients it does not need here.

    ``huey.storage`` imports the client of every backend it knows (redis, psycopg) as it loads:
    some 17 MiB in every process, the API's included. The ones not in use are hidden while it
    loads (a client already loaded stays as it is).
    """
    unused = ["psycopg"] if with_redis else ["redis", "psycopg"]
    hidden = [name for name in unused if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
    try:
        import huey
        import huey.storage
    finally:
        for name in hidden:
            if sys.modules.get(name) is None:
                del sys.modules[name]
    if with_redis and huey.storage.Redis is None:  # loaded earlier without redis in this process
        for module in (huey.storage, huey.api, huey):
            importlib.reload(module)
    return sys.modules["huey"]
