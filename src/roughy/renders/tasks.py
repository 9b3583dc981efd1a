"""The render job: the asset (a cut of it) through the render engine into the blob store.

The job holds a claim it renews while ffmpeg runs; a worker killed mid-render takes its ffmpeg
with it (the encoder dies with its parent), its claim lapses, and housekeeping queues the job
again for another worker: the render stays ``processing`` and starts over from the beginning.
The file is written beside the store's objects and becomes the render's object only once whole,
so a half file is never served. Cancelling is a state change; the running job sees it within
half a second and stops its encoder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from roughy.cuts.models import Cut
from roughy.queue import claims
from roughy.renders import service
from roughy.renders.models import Render
from roughy.speech.types import Span

if TYPE_CHECKING:
    from roughy.media.render import Output
    from roughy.runtime import Runtime

log = logging.getLogger("roughy.renders")

# Attempts cut short by a crash or a dead worker before the render is given up as failed.
MAX_ATTEMPTS = 3
PROGRESS_EVERY_SECONDS = 1.0


def order(rt: Runtime, session: Session, render: Render) -> None:
    """Queue the new render's job once the caller's transaction commits."""
    rt.jobs.submit_on_commit(session, run_render, render.id)


def forget_asset(rt: Runtime, session: Session, asset_id: str) -> None:
    """The asset goes (in ``session``'s transaction): its renders' files are purged after."""
    for render_id in service.of_asset(session, asset_id):
        rt.jobs.submit_on_commit(session, purge_render_file, render_id)


def purge_render_file(rt: Runtime, render_id: str) -> None:
    """The file of a removed render goes; safe to repeat."""
    key = service.object_key(render_id)
    rt.store.discard_upload(key)
    rt.store.delete_object(key)


def run_render(rt: Runtime, render_id: str) -> None:
    with claims.holding(rt.db, run_render.__name__, render_id, rt.jobs.lease) as held:
        if held is None:
            return  # another worker is on it
        with rt.db.session() as session:
            render = service.begin(session, render_id)
        if render is None:
            return
        if held.attempt > MAX_ATTEMPTS:
            message = f"The render stopped after {MAX_ATTEMPTS} attempts; it has been logged."
            _conclude_failed(rt, render, "render_failed", message)
            return
        _render(rt, render)


def _render(rt: Runtime, render: Render) -> None:
    from roughy.media import ffmpeg
    from roughy.media.probe import UnreadableMedia
    from roughy.media.render import NothingToRender
    from roughy.media.render import render as encode

    files = rt.files
    key = service.object_key(render.id)
    target = files.output(key)
    spans = _spans(rt, render)
    started = time.monotonic()
    try:
        with files.source(render.asset_id) as source:  # FileNotFoundError: retried
            plan = encode(
                source,
                spans,
                _output(render),
                target,
                ffmpeg=ffmpeg.binary(rt.settings.ffmpeg),
                on_progress=_progress_writer(rt, render.id),
                should_stop=lambda: _stopped(rt, render.id),
            )
    except ffmpeg.Stopped:
        files.discard_output(key)
        log.info("render stopped", extra={"render_id": render.id})
        return
    except (ffmpeg.EncoderFailed, UnreadableMedia, NothingToRender) as exc:
        files.discard_output(key)
        log.error("render failed", extra={"render_id": render.id, "reason": str(exc)[-1000:]})
        _conclude_failed(rt, render, "render_failed", "The file could not be rendered.")
        return
    except BaseException:
        files.discard_output(key)
        raise
    _publish(rt, render, key, target, round(plan.duration * 1000))
    log.info(
        "render completed",
        extra={
            "render_id": render.id,
            "pieces": len(plan.pieces),
            "seconds": round(time.monotonic() - started, 3),
            "speed": round(plan.duration / max(time.monotonic() - started, 1e-6), 3),
        },
    )


def _publish(rt: Runtime, render: Render, key: str, target: Path, duration_ms: int) -> None:
    """The whole file becomes the render's object, then the render is completed; a render
    cancelled or removed meanwhile leaves no file."""
    size = target.stat().st_size
    with open(target, "rb") as f:
        os.fsync(f.fileno())
    rt.files.publish(key)
    with rt.db.session() as session:
        won = service.complete(session, render, size, duration_ms)
    if not won:
        rt.store.delete_object(key)


def _conclude_failed(rt: Runtime, render: Render, code: str, message: str) -> None:
    with rt.db.session() as session:
        service.fail(session, render, code, message)


def _spans(rt: Runtime, render: Render) -> list[Span] | None:
    if render.cut_id is None:
        return None
    with rt.db.session() as session:
        cut = session.get(Cut, render.cut_id)
        segments = cut.segments if cut is not None else None
    return [Span(start, end) for start, end in segments or ()]


def _output(render: Render) -> Output:
    from roughy.media.render import Output

    o = render.output
    return Output(
        format=o["format"],
        resolution=o.get("resolution"),
        video_mbps=o.get("video_bitrate"),
        audio_kbps=o.get("audio_bitrate"),
        frame_rate=o.get("frame_rate"),
    )


def _stopped(rt: Runtime, render_id: str) -> bool:
    """Cancelled, failed elsewhere, or removed with its asset."""
    try:
        with rt.db.session() as session:
            return not service.still_open(session, render_id)
    except Exception:  # the database away for a moment: go on, ask again soon
        log.warning("render state not read", extra={"render_id": render_id})
        return False


def _progress_writer(rt: Runtime, render_id: str) -> Callable[[float], None]:
    last = [0.0]

    def write(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS:
            return
        last[0] = now
        with contextlib.suppress(Exception), rt.db.session() as session:
            service.report_progress(session, render_id, fraction)

    return write
