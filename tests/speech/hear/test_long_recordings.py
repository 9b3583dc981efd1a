"""Long recordings in windows: real espeak-ng speech heard a window at a time, and the decoded
recording read back a window at a time (``bench/memory_bench.py`` measures the memory)."""

from __future__ import annotations

import difflib
import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from roughy.speech.hear.align import fit, word_fits
from roughy.speech.hear.audio import InMemory, Recording, decode, frame_levels, load_audio
from roughy.speech.hear.models import prepare_model
from roughy.speech.hear.transcribe import transcribe, transcribe_file, windows
from roughy.speech.text import tokens
from roughy.speech.types import SAMPLE_RATE, Transcript, Word
from tests.spoken import Placed, speak

PHRASES = [
    "the quick brown fox jumps over the lazy dog",
    "so we will ship the new release on friday",
    "please send the invoice to the finance team",
    "the storage migration finished without any downtime",
    "three open questions remain about the dashboard",
    "thank you all for coming to the weekly review",
]
WINDOW = 6.0  # seconds: each window holds one or two phrases, so every phrase meets an edge
EDGE_TOLERANCE = 0.1


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("long")


@pytest.fixture(scope="module")
def model_dir(work: Path) -> Path:
    return prepare_model("base", work / "models")


@pytest.fixture(scope="module")
def clip(work: Path) -> tuple[Path, list[Placed]]:
    layout: list[str | float] = [0.4]
    for phrase in PHRASES:
        layout += [phrase, 0.6]
    path = work / "phrases.wav"
    return path, speak(layout, path)


@pytest.fixture(scope="module")
def in_windows(clip: tuple[Path, list[Placed]], model_dir: Path) -> Transcript:
    heard, _ = transcribe_file(clip[0], model="base", models_dir=model_dir.parent,
                               language="en", threads=2, window=WINDOW)  # fmt: skip
    return heard


def _said(words: tuple[Word, ...]) -> list[str]:
    return [t for w in words if w.kind == "word" for t in tokens(w.text)]


def test_the_windows_end_in_pauses_and_cover_the_recording(
    clip: tuple[Path, list[Placed]],
) -> None:
    path, placed = clip
    with decode(path) as recording:
        found = list(windows(recording, WINDOW))
        assert found[0][0] == 0
        for (first, samples, _), (after, _, _) in pairwise(found):
            assert after == first + len(samples)  # no gap, no overlap
            assert len(samples) <= WINDOW * SAMPLE_RATE
            edge = after / SAMPLE_RATE
            assert not any(p.start - 0.05 < edge < p.end + 0.05 for p in placed), edge
        assert found[-1][0] + len(found[-1][1]) == recording.length
        assert len(found) >= len(PHRASES) // 2 and all(speech for _, _, speech in found)


def test_speech_without_pauses_is_windowed_at_its_quiet_moments(work: Path) -> None:
    """Where a window's second half has no pause, it ends at its quietest 100 ms: still no
    gap and no overlap between windows."""
    path = work / "unbroken.wav"
    speak([" ".join(PHRASES[:3])], path, wpm=220)
    samples = load_audio(path)
    found = list(windows(InMemory(samples), 2.0))
    assert sum(len(window) for _, window, _ in found) == len(samples)
    for (first, window, _), (after, _, _) in pairwise(found):
        assert after == first + len(window)
        level = frame_levels(window[len(window) // 2 :])
        edge = frame_levels(samples[after - 800 : after + 800])
        assert edge.mean() < np.median(level), after / SAMPLE_RATE


def test_no_word_is_lost_or_heard_twice_at_a_window_edge(
    clip: tuple[Path, list[Placed]], model_dir: Path, in_windows: Transcript
) -> None:
    """Every phrase meets a window edge. Heard in 6 s windows, each phrase's words lie on it
    from its first sound to its last (a word lost at an edge would leave a gap there), none
    outside it or on top of another (a word heard twice would), and the text is the clip's
    (Whisper's words in a short window may differ from those of the whole clip heard at once).
    """
    _, placed = clip
    said = [w for w in in_windows.words if w.kind == "word"]
    for before, after in pairwise(said):
        assert after.start >= before.end - 0.02, (before, after)
    at = 0
    for phrase in placed:
        inside = [w for w in said if phrase.start - 0.1 < (w.start + w.end) / 2 < phrase.end + 0.1]
        assert said[at : at + len(inside)] == inside  # every word is on a phrase
        assert abs(len(inside) - len(tokens(phrase.text))) <= 1, (phrase, inside)
        assert abs(inside[0].start - phrase.start) <= EDGE_TOLERANCE, (inside[0], phrase)
        assert abs(inside[-1].end - phrase.end) <= EDGE_TOLERANCE, (inside[-1], phrase)
        at += len(inside)
    assert at == len(said)
    whole = transcribe(load_audio(clip[0]), model_dir=model_dir, language="en", threads=2)
    for text in (tokens(" ".join(PHRASES)), _said(whole.words)):
        matcher = difflib.SequenceMatcher(a=text, b=_said(in_windows.words), autojunk=False)
        assert matcher.ratio() >= 0.85, _said(in_windows.words)
    assert in_windows.duration == pytest.approx(whole.duration)


def test_a_recording_reads_what_load_audio_reads(
    clip: tuple[Path, list[Placed]], work: Path
) -> None:
    """The decoded file gives the same samples and levels as the whole-file load, in every
    window (past the ends too), for a WAV and for AAC in MP4 beside a video; it has no name
    in its directory, and closing it frees it."""
    video = work / "phrases.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=64x64:r=5",
         "-i", clip[0], "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", video],
        check=True,
    )  # fmt: skip
    scratch = work / "scratch"
    scratch.mkdir()
    for path in (clip[0], video):
        whole = load_audio(path)
        recording = decode(path, scratch)
        assert list(scratch.iterdir()) == []
        assert recording.length == len(whole)
        np.testing.assert_array_equal(recording.read(0, recording.length), whole)
        np.testing.assert_array_equal(recording.levels(), frame_levels(whole))
        for start, end in ((0.0, 1.0), (3.217, 9.5), (-1.0, 0.5), (20.0, 999.0)):
            first, last = round(max(0.0, start) * SAMPLE_RATE), round(end * SAMPLE_RATE)
            np.testing.assert_array_equal(recording.window(start, end), whole[first:last])
        _listens_alike(recording, whole)
        recording.close()
        with pytest.raises(ValueError):
            recording.read(0, 10)


def _listens_alike(recording: Recording, whole: np.ndarray) -> None:
    line = tokens(PHRASES[0])
    other = [*line[:-1], "frog"]
    start, end = 0.3, 3.5
    assert fit(recording, start, end, line, other) == fit(whole, start, end, line, other)
    fits = word_fits(recording, start, end, line)
    assert fits is not None and fits == word_fits(whole, start, end, line)
