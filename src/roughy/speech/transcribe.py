"""Words heard in a recording: faster-whisper on the CPU, then pocketsphinx alignment (English).

Each ``Word`` is one normalised token, so ``text.tokens(word.text)`` is always one token.
Where Whisper's word is one token its text is kept as heard, casing and punctuation included
(``"Hello,"``); a Whisper word that normalises to several tokens (``"20%"``, ``"well-known"``)
becomes one Word per token (``"twenty"``, ``"percent"``) sharing its time in proportion to
length, the last keeping any trailing punctuation. Fillers found only by the aligner are
named as the aligner heard them (``uh``, ``um``, ``ah``, ``er``, ``hmm``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel
from faster_whisper.vad import VadOptions, get_speech_timestamps

from roughy.speech.align import ALIGNED_LANGUAGES, align
from roughy.speech.audio import frame_levels, load_audio
from roughy.speech.models import model_label, prepare_model
from roughy.speech.text import is_filler, tokens
from roughy.speech.types import SAMPLE_RATE, Transcript, Word, WordKind

MIN_HOLE = 1.0  # speech this long with no word in it is decoded again on its own
COVER_PAD = 0.15  # a word covers this much around it (Whisper's edges are rough)
# No word is said longer than this: a word Whisper stretched past it (the last of a window,
# "four" from 71.7 s to 78.8 s over the phrase after it) covers only this much.
LONGEST_WORD = 1.5
_SENTENCE_END = ".,!?;:…"

_models: dict[tuple[Path, int], Any] = {}
_models_lock = threading.Lock()


def transcribe_file(
    path: Path, *, model: str, models_dir: Path, language: str | None, threads: int
) -> tuple[Transcript, npt.NDArray[np.float32]]:
    """The transcript of a media file, and its RMS level per 10 ms frame."""
    model_dir = prepare_model(model, models_dir)
    samples = load_audio(path)
    transcript = transcribe(samples, model_dir=model_dir, language=language, threads=threads)
    return transcript, frame_levels(samples)


def transcribe(
    samples: npt.NDArray[np.float32],
    *,
    model_dir: Path,
    language: str | None,
    threads: int = 2,
) -> Transcript:
    whisper = _model(model_dir, threads)
    hint = language.split("-")[0].split("_")[0].lower() if language else None
    options: dict[str, Any] = {
        "beam_size": 5,
        "word_timestamps": True,
        "condition_on_previous_text": False,
    }
    segments, info = whisper.transcribe(samples, language=hint, vad_filter=True, **options)
    detected: str = info.language
    words = _words(segments, detected)
    holes = unheard_speech(samples, words)
    if holes:
        again, _ = whisper.transcribe(
            samples,
            language=detected,
            clip_timestamps=[t for hole in holes for t in hole],
            **options,
        )
        words = sorted(words + _words(again, detected), key=lambda w: w.start)
    name = model_label(model_dir)
    if detected in ALIGNED_LANGUAGES and words:
        words = align(samples, words)
        name += "+pocketsphinx"
    return Transcript(
        language=detected,
        duration=len(samples) / SAMPLE_RATE,
        words=tuple(words),
        model=name,
    )


def _words(segments: Any, language: str) -> list[Word]:
    words: list[Word] = []
    for segment in segments:
        for heard in segment.words or ():
            words.extend(
                _split(heard.word, heard.start, heard.end, float(heard.probability), language)
            )
    return words


def unheard_speech(
    samples: npt.NDArray[np.float32], words: Sequence[Word]
) -> list[tuple[float, float]]:
    """Stretches of speech (Silero VAD, bundled with faster-whisper) that no word covers.

    Given a window holding two takes of one line, Whisper writes the line once and drops the
    repeat (measured: a whole second take unheard). Decoded on its own, the repeat is heard.
    A word covers at most ``LONGEST_WORD``: Whisper at times stretches a window's last word
    over the speech after it, which it did not write.
    """
    options = VadOptions(min_silence_duration_ms=300, speech_pad_ms=100)
    holes: list[tuple[float, float]] = []
    covered = [(w.start - COVER_PAD, min(w.end, w.start + LONGEST_WORD) + COVER_PAD) for w in words]
    for found in get_speech_timestamps(samples, options):
        start, end = found["start"] / SAMPLE_RATE, found["end"] / SAMPLE_RATE
        for low, high in covered:
            if high <= start or low >= end:
                continue
            if low - start >= MIN_HOLE:
                holes.append((start, low))
            start = max(start, high)
        if end - start >= MIN_HOLE:
            holes.append((start, end))
    return holes


def _split(spoken: str, start: float, end: float, probability: float, language: str) -> list[Word]:
    text = spoken.strip()
    normal = tokens(text, language)
    if len(normal) == 1:
        return [Word(text, start, end, _kind(text), probability)]
    trailing = text[len(text.rstrip(_SENTENCE_END)) :]
    total = sum(len(t) for t in normal)
    out: list[Word] = []
    at = start
    for i, token in enumerate(normal):
        last = i == len(normal) - 1
        step = end - at if last else (end - start) * len(token) / total
        shown = token + trailing if last else token
        out.append(Word(shown, at, at + step, _kind(token), probability))
        at += step
    return out


def _kind(text: str) -> WordKind:
    return "filler" if is_filler(text) else "word"


def _model(model_dir: Path, threads: int) -> Any:
    """One loaded model per directory and thread count, shared by every job in the process."""
    key = (model_dir.resolve(), threads)
    with _models_lock:
        if key not in _models:
            _models[key] = WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=threads,
                local_files_only=True,
            )
        return _models[key]
