"""Every job of the product, registered on the queue the same way in every process."""

from __future__ import annotations

from roughy.assets.tasks import process_asset, purge_asset_bytes
from roughy.cuts.tasks import run_cut
from roughy.jobs.periodic import lifecycle
from roughy.jobs.queue import JobQueue
from roughy.transcripts.tasks import transcribe_asset

HOUSEKEEPING = 10  # before any other queued job


def register_jobs(queue: JobQueue) -> None:
    queue.register(process_asset, retries=2, retry_delay=5)
    queue.register(purge_asset_bytes, retries=3, retry_delay=30)
    queue.register(transcribe_asset, retries=2, retry_delay=10)
    queue.register(run_cut, retries=2, retry_delay=5)
    queue.register(lifecycle, retries=0, priority=HOUSEKEEPING)
