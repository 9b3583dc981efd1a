"""Subtitles of a cut: its kept words, re-timed onto the cut, grouped into cues, as SRT or WebVTT.

A word is kept when it is a ``word`` (fillers are dropped) and its midpoint lies in a segment; its
start and end are clamped to that segment and moved onto the cut's timeline, where segment k
begins at the summed durations of the segments before it.

Cues (pysubs2 writes the files):
  - at most two lines of at most 42 characters (two lines are balanced; a single word longer
    than a line stays whole), and at most 7 s from first word to last;
  - a new cue after a word ending a sentence (. ? ! …), and across a silence longer than 1 s as
    the viewer hears it, i.e. on the cut's timeline;
  - WebVTT text escapes &, < and >, as its spec asks; SRT has no escapes and gets the words as
    they are;
  - a cue may span a cut between segments: the cut's timeline is continuous, and a sentence
    with a filler or retake removed from its middle is still one sentence;
  - a cue runs from its first word's start to its last word's end, held for at least 1 s when
    the next cue and the end of the cut leave room. Times are whole milliseconds, the start
    rounded down and the end up, never past the next cue's start or the cut's end.
"""

from __future__ import annotations

import bisect
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pysubs2

from roughy.speech.types import Span, Word
from roughy.timelines.errors import UnknownFormat

SUBTITLE_FORMATS: dict[str, str] = {"srt": "application/x-subrip", "vtt": "text/vtt"}
MAX_LINE = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0
MIN_CUE_SECONDS = 1.0
BREAK_AFTER_SILENCE = 1.0
SENTENCE_END = (".", "?", "!", "…")


class Retimer:
    """Source time → the cut's time, for sorted, disjoint segments."""

    def __init__(self, segments: Sequence[Span]) -> None:
        self.segments = sorted(segments, key=lambda s: s.start)
        self.starts = [s.start for s in self.segments]
        self.offsets: list[float] = []
        total = 0.0
        for span in self.segments:
            self.offsets.append(total - span.start)
            total += span.end - span.start
        self.duration = total

    def segment_of(self, t: float) -> int | None:
        k = bisect.bisect_right(self.starts, t) - 1
        if k >= 0 and t <= self.segments[k].end:
            return k
        return None

    def at(self, t: float, k: int) -> float:
        span = self.segments[k]
        return min(max(t, span.start), span.end) + self.offsets[k]


def retime(t: float, segments: Sequence[Span]) -> float | None:
    """Where source time ``t`` falls on the cut's timeline; None where the cut dropped it."""
    retimer = Retimer(segments)
    k = retimer.segment_of(t)
    return None if k is None else retimer.at(t, k)


@dataclass(frozen=True)
class TimedWord:
    text: str
    start: float  # on the cut's timeline
    end: float


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]


def kept_words(words: Sequence[Word], segments: Sequence[Span]) -> list[TimedWord]:
    retimer = Retimer(segments)
    kept = []
    for word in sorted(words, key=lambda w: w.start):
        text = " ".join(word.text.split())
        if word.kind != "word" or not text:
            continue
        k = retimer.segment_of((word.start + word.end) / 2)
        if k is not None:
            kept.append(TimedWord(text, retimer.at(word.start, k), retimer.at(word.end, k)))
    return kept


def wrap(texts: Sequence[str]) -> tuple[str, ...] | None:
    """The words on one line, or two balanced ones; None when they need more."""
    line = " ".join(texts)
    if len(line) <= MAX_LINE or len(texts) == 1:
        return (line,)
    best: tuple[str, str] | None = None
    for split in range(1, len(texts)):
        first, second = " ".join(texts[:split]), " ".join(texts[split:])
        if len(first) > MAX_LINE or len(second) > MAX_LINE:
            continue
        if best is None or abs(len(first) - len(second)) < abs(len(best[0]) - len(best[1])):
            best = (first, second)
    return best


def group_cues(words: Sequence[TimedWord], duration: float) -> list[Cue]:
    groups: list[list[TimedWord]] = []
    for word in words:
        current = groups[-1] if groups else None
        if (
            current is None
            or current[-1].text.endswith(SENTENCE_END)
            or word.start - current[-1].end > BREAK_AFTER_SILENCE
            or word.end - current[0].start > MAX_CUE_SECONDS
            or wrap([w.text for w in [*current, word]]) is None
        ):
            groups.append([word])
        else:
            current.append(word)
    cues = []
    for index, group in enumerate(groups):
        limit = groups[index + 1][0].start if index + 1 < len(groups) else duration
        end = max(group[-1].end, min(group[0].start + MIN_CUE_SECONDS, limit))
        lines = wrap([w.text for w in group]) or (" ".join(w.text for w in group),)
        cues.append(Cue(group[0].start, end, lines))
    return cues


def export_subtitles(words: Sequence[Word], segments: Sequence[Span], fmt: str) -> tuple[str, str]:
    """The cut's subtitles in ``fmt`` (srt or vtt): (text, media type)."""
    if fmt not in SUBTITLE_FORMATS:
        raise UnknownFormat(fmt, SUBTITLE_FORMATS)
    retimer = Retimer(segments)
    total_ms = math.ceil(retimer.duration * 1000)
    cues = group_cues(kept_words(words, segments), retimer.duration)
    subs = pysubs2.SSAFile()
    for index, cue in enumerate(cues):
        start = math.floor(cue.start * 1000)
        end = min(math.ceil(cue.end * 1000), total_ms)
        if index + 1 < len(cues):
            end = min(end, math.floor(cues[index + 1].start * 1000))
        event = pysubs2.SSAEvent(start=start, end=max(end, start))
        text = "\n".join(cue.lines)
        event.plaintext = html.escape(text, quote=False) if fmt == "vtt" else text
        subs.append(event)
    # keep_ssa_tags: pysubs2 would take a word in {braces} for a SubStation tag and drop it.
    return subs.to_string(fmt, keep_ssa_tags=True), SUBTITLE_FORMATS[fmt]
