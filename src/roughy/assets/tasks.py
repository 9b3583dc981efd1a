"""Jobs on assets: preparing a stored upload, and purging the bytes of deleted assets."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from roughy.assets import service
from roughy.assets.models import Asset
from roughy.credits import service as credits
from roughy.media.probe import UnreadableMedia, probe, retyped
from roughy.storage.base import LocalPaths

if TYPE_CHECKING:
    from roughy.runtime import Runtime

log = logging.getLogger("roughy.assets")


def process_asset(rt: Runtime, asset_id: str) -> None:
    """processing → ready or failed, from the real streams of the stored bytes."""
    store = rt.store
    if not isinstance(store, LocalPaths):
        raise NotImplementedError("processing needs a store with local paths")
    try:
        measured = probe(store.object_path(asset_id))
        failure = None
        if not (measured.has_audio or measured.has_video):
            failure = ("unreadable_media", "The file holds no audio or video stream.")
        elif not measured.has_audio:
            failure = ("no_audio_stream", "The media has no audio stream to work with.")
        elif measured.duration_ms <= 0:
            failure = ("unreadable_media", "The media's duration could not be measured.")
    except UnreadableMedia as exc:
        log.info("unreadable media", extra={"asset_id": asset_id, "reason": str(exc)})
        failure = ("unreadable_media", "The file could not be read as audio or video.")
    with rt.db.session() as session:
        asset = session.get(Asset, asset_id, with_for_update=True)
        if asset is None or asset.state != "processing":
            return
        if failure is not None:
            service.mark_failed(session, asset, *failure)
        else:
            if asset.content_type and asset.extension:
                asset.content_type, asset.extension = retyped(
                    asset.content_type, asset.extension, measured.has_video
                )
            service.mark_measured(
                asset, "video" if measured.has_video else "audio", measured.duration_ms
            )
            credits.settle(session, asset, enforced=rt.settings.credits_enforced)
    log.info("asset processed", extra={"asset_id": asset_id, "failure": failure and failure[0]})


def purge_asset_bytes(rt: Runtime, asset_id: str) -> None:
    rt.store.discard_upload(asset_id)
    rt.store.delete_object(asset_id)
