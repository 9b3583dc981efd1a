"""A worker process: runs queued jobs on a few threads, and queues housekeeping on a timer.

``roughy worker`` runs one on its own; ``roughy serve`` starts one beside the API. SIGTERM lets
running jobs finish (up to the shutdown grace), then exits; a job cut short runs again elsewhere
once its claim lapses.
"""

from __future__ import annotations

import logging
import threading

from roughy.config import Settings
from roughy.jobs.periodic import lifecycle
from roughy.logs import configure_logging
from roughy.runtime import Runtime, build_runtime

log = logging.getLogger("roughy.worker")


def run(settings: Settings) -> None:
    rt = build_runtime(settings)
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
        target=_queue_housekeeping, args=(rt, stop), name="roughy-housekeeping", daemon=True
    )
    ticker.start()
    log.info(
        "worker started",
        extra={"queue": type(rt.jobs.huey).__name__, "threads": settings.worker_threads},
    )
    try:
        consumer.run()
    finally:
        stop.set()
        rt.close()
        log.info("worker stopped")


def _queue_housekeeping(rt: Runtime, stop: threading.Event) -> None:
    """Queue the lifecycle job now and every interval; a busy queue runs it first (priority)."""
    while True:
        try:
            rt.jobs.submit(lifecycle)
        except Exception:
            log.exception("housekeeping not queued")
        if stop.wait(rt.settings.reaper_interval_seconds):
            return


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    logging.getLogger("huey").setLevel(max(logging.WARNING, logging.getLogger().level))
    run(settings)


if __name__ == "__main__":
    main()
