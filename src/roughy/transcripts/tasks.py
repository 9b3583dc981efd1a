"""The transcription job: what was said in an asset, once, then every cut waiting on it."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from roughy.assets.models import Asset
from roughy.media.probe import UnreadableMedia, probe
from roughy.queue import claims
from roughy.transcripts import service

if TYPE_CHECKING:
    from roughy.queue.jobqueue import JobQueue
    from roughy.runtime import Runtime

log = logging.getLogger("roughy.transcripts")

MAX_ATTEMPTS = 3  # a transcription cut short this often (crash, dead worker) is given up
# Published with the asset id once its transcript is concluded (or found concluded).
TRANSCRIPT_DONE = "transcript.done"


def request(jobs: JobQueue, session: Session, asset: Asset) -> None:
    """Make sure the asset gets its transcript: queued once the caller's transaction commits."""
    if service.ensure(session, asset):
        jobs.submit_on_commit(session, transcribe_asset, asset.id)


def transcribe_asset(rt: Runtime, asset_id: str) -> None:
    """pending → completed (or failed), then whoever waits on it is told (TRANSCRIPT_DONE)."""
    with claims.holding(rt.db, transcribe_asset.__name__, asset_id, rt.jobs.lease) as held:
        if held is None:
            return  # another worker is on it
        with rt.db.session() as session:
            transcript = service.begin(session, asset_id)
            asset = session.get(Asset, asset_id)
            language = asset.language if asset is not None else None
        if transcript is not None and held.attempt > MAX_ATTEMPTS:
            with rt.db.session() as session:
                service.fail(
                    session,
                    asset_id,
                    "transcription_failed",
                    f"Transcription stopped after {MAX_ATTEMPTS} attempts; it has been logged.",
                )
        elif transcript is not None:
            _transcribe(rt, asset_id, language)
    rt.jobs.publish(rt, TRANSCRIPT_DONE, asset_id)


def _transcribe(rt: Runtime, asset_id: str, language: str | None) -> None:
    # The recogniser loads only where jobs run: API processes never carry it.
    from roughy.speech.hear.audio import AudioUnreadable
    from roughy.speech.hear.models import ModelUnavailable
    from roughy.speech.hear.transcribe import transcribe_file

    settings = rt.settings
    started = time.monotonic()
    try:
        with rt.files.source(asset_id) as path:  # FileNotFoundError: retried
            heard, levels = transcribe_file(
                path,
                model=settings.speech_model,
                models_dir=settings.models_dir,
                language=language,
                threads=settings.speech_threads,
                scratch=settings.data_dir,  # the decoded audio, 230 MB an hour, while it runs
            )
            frame_rate = probe(path).frame_rate
    except ModelUnavailable as exc:
        log.error("speech model unavailable", extra={"asset_id": asset_id, "reason": str(exc)})
        with rt.db.session() as session:
            service.fail(
                session,
                asset_id,
                "model_unavailable",
                "The speech model is not installed on this server; an operator has to fix it.",
            )
        return
    except (UnreadableMedia, AudioUnreadable):
        with rt.db.session() as session:
            service.fail(session, asset_id, "unreadable_media", "The audio could not be decoded.")
        return
    with rt.db.session() as session:
        service.complete(session, asset_id, heard, levels, frame_rate)
    seconds = time.monotonic() - started
    log.info(
        "asset transcribed",
        extra={
            "asset_id": asset_id,
            "words": len(heard.words),
            "language": heard.language,
            "seconds": round(seconds, 3),
            "rtf": round(seconds / heard.duration, 4) if heard.duration else None,
        },
    )
