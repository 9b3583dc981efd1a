"""Jobs on assets: preparing a stored upload, and purging the bytes of deleted assets."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from roughy.assets import service
from roughy.assets.models import Asset
from roughy.credits import service as credits
from roughy.media.probe import Probe, UnreadableMedia, probe, retyped
from roughy.queue import claims
from roughy.transcripts import tasks as transcripts

if TYPE_CHECKING:
    from roughy.runtime import Runtime

log = logging.getLogger("roughy.assets")

Failure = tuple[str, str]  # (error_code, error_message)
# Attempts cut short by a crash or a dead worker before the asset is given up as failed.
MAX_ATTEMPTS = 5


def process_asset(rt: Runtime, asset_id: str) -> None:
    """processing → ready, pending_payment or failed, from the real streams of the stored bytes.

    Safe to run twice: one worker at a time holds the asset's claim, the state change is guarded
    by the row lock, and the charge is keyed by the asset.
    """
    with claims.holding(rt.db, process_asset.__name__, asset_id, rt.jobs.lease) as held:
        if held is None:
            return  # another worker is on it
        if held.attempt > MAX_ATTEMPTS:
            failure: Failure | None = (
                "processing_failed",
                f"Processing stopped after {MAX_ATTEMPTS} attempts; it has been logged.",
            )
            _conclude(rt, asset_id, None, failure)
            return
        with rt.db.session() as session:
            asset = session.get(Asset, asset_id)
            if asset is None or asset.state != "processing":
                return
        started = time.monotonic()
        measured, failure = _measure(rt, asset_id)
        _conclude(rt, asset_id, measured, failure)
        log.info(
            "asset processed",
            extra={
                "asset_id": asset_id,
                "failure": failure and failure[0],
                "attempt": held.attempt,
                "seconds": round(time.monotonic() - started, 4),
            },
        )


def _measure(rt: Runtime, asset_id: str) -> tuple[Probe | None, Failure | None]:
    try:
        # Missing bytes are the store's fault, not the media's: FileNotFoundError lets the job
        # be retried.
        with rt.files.source(asset_id) as path:
            measured = probe(path)
    except UnreadableMedia as exc:
        log.info("unreadable media", extra={"asset_id": asset_id, "reason": str(exc)})
        return None, ("unreadable_media", "The file could not be read as audio or video.")
    if not (measured.has_audio or measured.has_video):
        return measured, ("unreadable_media", "The file holds no audio or video stream.")
    if not measured.has_audio:
        return measured, ("no_audio_stream", "The media has no audio stream to work with.")
    if measured.duration_ms <= 0:
        return measured, ("unreadable_media", "The media's duration could not be measured.")
    return measured, None


def _conclude(rt: Runtime, asset_id: str, measured: Probe | None, failure: Failure | None) -> None:
    with rt.db.session() as session:
        asset = session.get(Asset, asset_id, with_for_update=True)
        if asset is None or asset.state != "processing":
            return
        if failure is not None:
            service.mark_failed(session, asset, *failure)
        elif measured is not None:
            if asset.content_type and asset.extension:
                asset.content_type, asset.extension = retyped(
                    asset.content_type, asset.extension, measured.has_video
                )
            service.mark_measured(
                asset, "video" if measured.has_video else "audio", measured.duration_ms
            )
            credits.settle(session, asset, enforced=rt.settings.credits_enforced)
            if asset.state == "ready" and rt.settings.transcribe_on_ready:
                transcripts.request(rt.jobs, session, asset)


# Published with (session, asset_id) while a ready asset is being removed, its rows still there.
ASSET_REMOVED = "asset.removed"


def removing(rt: Runtime, session: Session, asset_ids: list[str]) -> None:
    """Ready assets about to be removed in ``session``'s transaction: whoever keeps files made
    of them is told first (ASSET_REMOVED), while their rows are there to read; their bytes are
    purged once the transaction commits."""
    for asset_id in asset_ids:
        rt.jobs.publish(rt, ASSET_REMOVED, session, asset_id)
        rt.jobs.submit_on_commit(session, purge_asset_bytes, asset_id)


def purge_asset_bytes(rt: Runtime, asset_id: str) -> None:
    """The bytes of a deleted asset or upload go; safe to repeat."""
    with claims.holding(rt.db, purge_asset_bytes.__name__, asset_id, rt.jobs.lease) as held:
        if held is None:
            return
        rt.store.discard_upload(asset_id)
        rt.store.delete_object(asset_id)
