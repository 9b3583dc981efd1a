"""A worker process: runs queued jobs on a few threads, queues the periodic jobs on a timer, and
runs the registered loops (each on a thread of its own) until it stops.

``roughy worker`` runs one on its own; ``roughy serve`` starts one beside the API (both through
``roughy.jobs.main``, which builds the runtime with the product's jobs). SIGTERM lets running
jobs finish (up to the shutdown grace), then exits; a job cut short runs again elsewhere once
its claim lapses.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from roughy.runtime import Runtime

log = logging.getLogger("roughy.worker")


def run(rt: Runtime) -> None:
    """Run the runtime's queued jobs until SIGTERM; the runtime is closed at the end."""
    settings = rt.settings
    rt.jobs.bind(rt)
    consumer = rt.jobs.huey.create_consumer(
        workers=settings.worker_threads,
        worker_type="thread",
        periodic=False,  # housekeeping runs on our own interval, below the minute
        initial_delay=0.05,
        backoff=1.5,
        max_delay=0.5,  # an idle SQLite queue is polled at least twice a second
        graceful_signal="TERM",
        shutdown_timeout=settings.shutdown_grace_seconds,
    )
    stop = threading.Event()
    ticker = threading.Thread(
        target=_queue_periodic, args=(rt, stop), name="roughy-periodic", daemon=True
    )
    ticker.start()
    loops = [
        threading.Thread(target=loop, args=(rt, stop), name=loop.__name__, daemon=True)
        for loop in rt.jobs.loops
    ]
    for thread in loops:
        thread.start()
    log.info(
        "worker started",
        extra={"queue": type(rt.jobs.huey).__name__, "threads": settings.worker_threads},
    )
    try:
        consumer.run()
    finally:
        stop.set()
        for thread in loops:
            thread.join(5)
        rt.close()
        log.info("worker stopped")


def _queue_periodic(rt: Runtime, stop: threading.Event) -> None:
    """Queue the periodic jobs now and every interval; a busy queue runs them first (priority)."""
    while True:
        for job in rt.jobs.periodic:
            try:
                rt.jobs.submit(job)
            except Exception:
                log.exception("periodic job not queued", extra={"job": job.__name__})
        if stop.wait(rt.settings.reaper_interval_seconds):
            return


def quiet_huey() -> None:
    logging.getLogger("huey").setLevel(max(logging.WARNING, logging.getLogger().level))
