"""Words heard in a recording: faster-whisper on the CPU, then pocketsphinx alignment (English).

A recording is heard a window at a time (``windows``: at most ``WINDOW`` seconds, each ending
in the middle of a pause), read from a ``Recording`` decoded once to a temporary file, so memory
stays flat however long it is; the words are then aligned chunk by chunk from the same file.

Each ``Word`` is one normalised token, so ``text.tokens(word.text)`` is always one token.
Where Whisper's word is one token its text is kept as heard, casing and punctuation included
(``"Hello,"``); a Whisper word that normalises to several tokens (``"20%"``, ``"well-known"``)
becomes one Word per token (``"twenty"``, ``"percent"``) sharing its time in proportion to
length, the last keeping any trailing punctuation. Fillers found only by the aligner are
named as the aligner heard them (``uh``, ``um``, ``ah``, ``er``, ``hmm``).
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel
from faster_whisper.vad import VadOptions, get_speech_timestamps

from roughy.media.inputs import MediaInput
from roughy.speech.hear.align import ALIGNED_LANGUAGES, align
from roughy.speech.hear.audio import Samples, Sound, decode, sound_of
from roughy.speech.hear.models import model_label, prepare_model
from roughy.speech.text import is_filler, tokens
from roughy.speech.types import SAMPLE_RATE, Transcript, Word, WordKind

MIN_HOLE = 1.0  # speech this long with no word in it is decoded again on its own
COVER_PAD = 0.15  # a word covers this much around it (Whisper's edges are rough)
# No word is said longer than this: a word Whisper stretched past it (the last of a window,
# "four" from 71.7 s to 78.8 s over the phrase after it) covers only this much.
LONGEST_WORD = 1.5
_SENTENCE_END = ".,!?;:…"
# Seconds of audio Whisper is given at a time, at most. A window ends in the middle of the
# longest pause in its second half, so no word is said across its edge.
WINDOW = 60.0
# The pauses a window may end in: silence (Silero VAD) of at least 0.3 s, less 0.1 s either side.
_PAUSES = VadOptions(min_silence_duration_ms=300, speech_pad_ms=100)
_SMOOTH = 10  # frames of 10 ms averaged when a window must end where there is no pause
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
_LARGE_BLOCK = 1 << 20  # bytes: blocks this large are mapped on their own, and unmapped when freed

_models: dict[tuple[Path, int], Any] = {}
_models_lock = threading.Lock()


def transcribe_file(
    path: MediaInput,
    *,
    model: str,
    models_dir: Path,
    language: str | None,
    threads: int,
    scratch: Path | None = None,
    window: float = WINDOW,
) -> tuple[Transcript, npt.NDArray[np.float32]]:
    """The transcript of a media file (or a URL read with Range requests), and its RMS level
    per 10 ms frame.

    The audio is decoded once into an unnamed temporary file in ``scratch`` (the system's
    temporary directory by default; 230 MB an hour), removed when done.
    """
    model_dir = prepare_model(model, models_dir)
    _map_large_blocks()
    with decode(path, scratch) as recording:
        transcript = transcribe(
            recording, model_dir=model_dir, language=language, threads=threads, window=window
        )
        return transcript, recording.levels()


@functools.cache
def _map_large_blocks() -> None:
    """Have glibc's malloc map each block of ``_LARGE_BLOCK`` or more on its own, for this
    whole process, so that it goes back to the system when freed.

    By default the threshold rises to the largest block freed so far (up to 32 MiB); then a
    window's arrays (a few MB each: samples, VAD batches, spectrogram) come from the heap and
    leave it fragmented, and the peak rises with them. Measured on 30 minutes: 459 -> 354 MB
    peak RSS, for 14 to 23 % more CPU time, in page faults (bench/memory_bench.py). Without
    glibc (no ``mallopt``) nothing changes.
    """
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, _LARGE_BLOCK)


def transcribe(
    source: Samples | Sound,
    *,
    model_dir: Path,
    language: str | None,
    threads: int = 2,
    window: float = WINDOW,
) -> Transcript:
    """What was said in ``source``: Whisper window by window (``windows``), then aligned.

    The language is detected in the first window with speech (unless given) and kept for
    the rest.
    """
    sound = sound_of(source)
    whisper = _model(model_dir, threads)
    hint = language.split("-")[0].split("_")[0].lower() if language else None
    detected: str | None = None
    words: list[Word] = []
    for first, samples, speech in windows(sound, window):
        if not speech:
            continue
        heard, detected = _hear(whisper, samples, detected or hint)
        offset, end = first / SAMPLE_RATE, (first + len(samples)) / SAMPLE_RATE
        words.extend(
            replace(w, start=min(w.start + offset, end), end=min(w.end + offset, end))
            for w in heard
        )
    if detected is None:  # no speech anywhere: Whisper's language for the first window
        _, detected = _hear(whisper, sound.read(0, round(window * SAMPLE_RATE)), hint)
    name = model_label(model_dir)
    if detected in ALIGNED_LANGUAGES and words:
        words = align(sound, words)
        name += "+pocketsphinx"
    return Transcript(
        language=detected,
        duration=sound.length / SAMPLE_RATE,
        words=tuple(words),
        model=name,
    )


def _hear(whisper: Any, samples: Samples, language: str | None) -> tuple[list[Word], str]:
    """Whisper's words in ``samples`` (seconds from their start), and the language it heard;
    speech no word covers is decoded again on its own (``unheard_speech``)."""
    options: dict[str, Any] = {
        "beam_size": 5,
        "word_timestamps": True,
        "condition_on_previous_text": False,
    }
    segments, info = whisper.transcribe(samples, language=language, vad_filter=True, **options)
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
    return words, detected


def windows(sound: Sound, size: float = WINDOW) -> Iterator[tuple[int, Samples, bool]]:
    """``sound`` in consecutive windows of at most ``size`` seconds: each window's first
    sample, its samples, and whether Silero VAD hears speech in it.

    A window ends in the middle of the longest pause (``_PAUSES``) in its second half, so a
    word is never cut in two and is heard in exactly one window. Where the second half has
    no pause (30 s of speech without a breath, or music), it ends at its quietest 100 ms.
    """
    step = max(round(size * SAMPLE_RATE), SAMPLE_RATE)
    first = 0
    while first < sound.length:
        samples = sound.read(first, first + step)
        found = get_speech_timestamps(samples, _PAUSES)
        speech = [(int(f["start"]), int(f["end"])) for f in found]
        last = first + len(samples) >= sound.length
        end = len(samples) if last or not speech else _cut(samples, speech)
        yield first, samples[:end], any(start < end for start, _ in speech)
        first += end


def _cut(samples: Samples, speech: Sequence[tuple[int, int]]) -> int:
    """Where a window of ``samples`` with ``speech`` (sample spans) ends: the middle of the
    longest pause in its second half, else its quietest stretch there."""
    half, size = len(samples) // 2, len(samples)
    edges = [0, *(e for span in speech for e in span), size]
    best = (0, 0)
    for low, high in zip(edges[::2], edges[1::2], strict=True):
        low, high = max(low, half), min(high, size)
        if high - low > best[1] - best[0]:
            best = (low, high)
    if best[1] > best[0]:
        return (best[0] + best[1]) // 2
    frame = round(SAMPLE_RATE * 0.01)
    tail = samples[half : half + (size - half) // frame * frame].reshape(-1, frame)
    energy = np.convolve((tail * tail).mean(axis=1), np.ones(_SMOOTH), mode="valid")
    return half + (int(np.argmin(energy)) + _SMOOTH // 2) * frame


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
