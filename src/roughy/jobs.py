"""Every job of the product and what wakes what, registered on the queue the same way in every
process; ``python -m roughy.jobs`` is a worker process that runs them.

This is the top floor: it knows every resource, and nothing below imports it. The queue
machinery (``roughy.queue``) knows no resource; a resource's job publishes a topic when it
finishes something, and the subscriptions here say who is woken.
"""

from __future__ import annotations

from roughy.assets.tasks import ASSET_REMOVED, process_asset, purge_asset_bytes
from roughy.cuts.planning import settle_waiting
from roughy.cuts.tasks import run_cut
from roughy.events.service import RECORDED
from roughy.housekeeping import lifecycle
from roughy.queue.jobqueue import JobQueue
from roughy.renders.tasks import forget_asset, purge_render_file, run_render
from roughy.transcripts.tasks import TRANSCRIPT_DONE, transcribe_asset
from roughy.webhooks.tasks import announce, dispatcher

HOUSEKEEPING = 10  # before any other queued job
WORKER_MODULE = "roughy.jobs"  # what `python -m` runs as a worker process


def register_jobs(queue: JobQueue) -> None:
    queue.register(process_asset, retries=2, retry_delay=5)
    queue.register(purge_asset_bytes, retries=3, retry_delay=30)
    queue.register(transcribe_asset, retries=2, retry_delay=10)
    queue.register(run_cut, retries=2, retry_delay=5)
    queue.register(run_render, retries=2, retry_delay=5)
    queue.register(purge_render_file, retries=3, retry_delay=30)
    # Webhooks: every worker polls for events to dispatch and deliveries due, and sends them.
    queue.register_loop(dispatcher)
    queue.register(lifecycle, retries=0, priority=HOUSEKEEPING, periodic=True)
    # A finished (or failed) transcript: the cuts waiting on it are decided.
    queue.subscribe(TRANSCRIPT_DONE, settle_waiting)
    # A ready asset is being removed: its renders' files are purged after.
    queue.subscribe(ASSET_REMOVED, forget_asset)
    # An event was committed: this worker's webhook dispatcher polls at once.
    queue.subscribe(RECORDED, announce)


def main() -> None:
    """A worker process with the product's jobs, on the configured queue."""
    from roughy.config import Settings
    from roughy.logs import configure_logging
    from roughy.queue import worker
    from roughy.runtime import build_runtime

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    worker.quiet_huey()
    worker.run(build_runtime(settings, register_jobs))


if __name__ == "__main__":
    main()
