"""Deciding a cut from its asset's transcript: the speech engine's plan, stored."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from roughy.cuts import service
from roughy.cuts.models import Cut
from roughy.speech.types import CutOptions, Listen, OverrideError, WordFits
from roughy.transcripts import service as transcripts
from roughy.transcripts.models import Transcript

if TYPE_CHECKING:
    from roughy.config import Settings
    from roughy.runtime import Runtime

log = logging.getLogger("roughy.cuts")


def options(chosen: Mapping[str, Any], settings: Settings) -> CutOptions:
    """The engine's options for a cut's stored ``options`` (resolved when it was ordered, by
    their API names); the shortest filler cut out is the server's."""
    return CutOptions(
        policy=chosen["take"],
        max_pause=chosen["max_pause_seconds"],
        min_filler=settings.cut_min_filler_seconds,
        lead=chosen["padding_before_seconds"],
        tail=chosen["padding_after_seconds"],
        remove_fillers=chosen["remove_fillers"],
        remove_repeats=chosen["remove_repeats"],
    )


def settle(rt: Runtime, cut_id: str) -> None:
    """Decide the cut if its transcript is made; mark it processing while that is under way."""
    with rt.db.session() as session:
        cut = session.get(Cut, cut_id)
        if cut is None or cut.state not in service.OPEN:
            return
        transcript = session.get(Transcript, cut.asset_id)
        if transcript is None or transcript.state in transcripts.OPEN:
            service.begin(session, cut_id)
            return  # the transcription job settles it when it is done
        if transcript.state == "failed":
            service.fail(
                session,
                cut,
                transcript.error_code or "transcription_failed",
                transcript.error_message or "The recording could not be transcribed.",
            )
            return
        words = transcripts.words_of(transcript)
        levels = transcripts.levels_of(transcript)
        duration = (transcript.duration_ms or 0) / 1000
        language = transcript.language
    from roughy.speech.decide import decide  # numpy stays out of the API processes

    started = time.monotonic()
    try:
        listen, word_fits = _ears(rt, cut.asset_id, language) if cut.script else (None, None)
        plan = decide(
            words,
            cut.script,
            duration=duration,
            levels=levels,
            options=options(cut.options, rt.settings),
            listen=listen,
            word_fits=word_fits,
            overrides=service.engine_overrides(cut.overrides),
        )
    except OverrideError as error:  # the reviewer's choice does not fit this recording
        with rt.db.session() as session:
            service.fail(session, cut, "invalid_override", str(error))
        return
    except Exception:  # a bug: deciding again gives the same answer, so the cut fails now
        log.exception("cut not decided", extra={"cut_id": cut_id})
        with rt.db.session() as session:
            service.fail(
                session, cut, "cut_failed", "The cut could not be decided; it has been logged."
            )
        return
    with rt.db.session() as session:
        service.complete(session, cut, plan)
    log.info(
        "cut decided",
        extra={
            "cut_id": cut_id,
            "segments": len(plan.segments),
            "missing_lines": len(plan.missing_lines),
            "seconds": round(time.monotonic() - started, 4),
        },
    )


def _ears(
    rt: Runtime, asset_id: str, language: str | None
) -> tuple[Listen | None, WordFits | None]:
    """The recording, to check takes against the script by ear and compare a line's takes
    word by word; None where the aligner does not know the language or the recording cannot
    be read (the text alone decides then). It is decoded once into an unnamed temporary file
    in the data directory, each take read from it as it is heard, and the file goes with the
    last of the two functions."""
    from roughy.speech.hear.align import ALIGNED_LANGUAGES, fit, word_fits
    from roughy.speech.hear.audio import AudioUnreadable, decode

    if language not in ALIGNED_LANGUAGES:
        return None, None
    try:
        with rt.files.source(asset_id) as path:
            recording = decode(path, rt.settings.data_dir)
    except (AudioUnreadable, OSError):
        log.warning("recording not read for listening", extra={"asset_id": asset_id})
        return None, None
    return partial(fit, recording), partial(word_fits, recording)


def settle_waiting(rt: Runtime, asset_id: str) -> None:
    """Every cut of the asset that waited for its transcript."""
    with rt.db.session() as session:
        waiting = service.waiting_on(session, asset_id)
    for cut_id in waiting:
        settle(rt, cut_id)
