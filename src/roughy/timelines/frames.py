"""The source a cut is made from, and the cut's segments quantised to its frames.

Frame rates are exact fractions: 29.97 means 30000/1001, 23.976 means 24000/1001, 59.94 means
60000/1001. An audio-only source has no frames of its own; its timeline runs at
``AUDIO_TIMELINE_RATE`` (25 fps, the PAL rate, whose frames are a whole 40 ms), whatever
``frame_rate`` says.

Quantising never loses kept speech: a segment's start is rounded down to a frame boundary and its
end up, both clamped to the source. Segments that then overlap or touch are merged (the editor
would otherwise see the same frame twice, or a cut that is not one), and empty ones are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from roughy.speech.types import Span

AUDIO_TIMELINE_RATE = Fraction(25)
# Float noise (2.0 * 25 == 50.000000000000007) must not push a boundary to the next frame.
_EPSILON_FRAMES = 1e-6


@dataclass(frozen=True)
class SourceMedia:
    """The recording a cut is made from, as the editor's machine should find it.

    ``target_url`` is what the timeline links to: a URL (``file:///…``, ``https://…``); a bare
    absolute path is turned into a ``file://`` URL.
    """

    name: str  # shown as the clip name, e.g. "talk.mp4"
    target_url: str
    duration: float  # seconds
    frame_rate: float = float(AUDIO_TIMELINE_RATE)  # video fps; ignored when has_video is False
    has_video: bool = True
    has_audio: bool = True
    sample_rate: int | None = None

    def __post_init__(self) -> None:
        if not (self.has_video or self.has_audio):
            raise ValueError("a source needs video or audio")
        if not self.duration > 0:
            raise ValueError(f"source duration must be positive, got {self.duration}")
        if self.has_video and not self.frame_rate > 0:
            raise ValueError(f"frame rate must be positive, got {self.frame_rate}")

    @property
    def rate(self) -> Fraction:
        """The timeline's exact frame rate."""
        return exact_rate(self.frame_rate) if self.has_video else AUDIO_TIMELINE_RATE

    @property
    def url(self) -> str:
        """``target_url`` as a URL; a quote is escaped, as the FCPXML writer cannot take one."""
        url = self.target_url
        if not urlsplit(url).scheme and url.startswith("/"):
            url = PurePosixPath(url).as_uri()
        return url.replace("'", "%27")

    @property
    def frames(self) -> int:
        """The source's length in whole frames (a partial last frame counts)."""
        return ceil_frame(self.duration, self.rate)


@dataclass(frozen=True)
class FrameRange:
    """One clip of the cut: source frames [source_start, source_end) placed at record_start."""

    source_start: int
    source_end: int
    record_start: int

    @property
    def length(self) -> int:
        return self.source_end - self.source_start

    @property
    def record_end(self) -> int:
        return self.record_start + self.length


# The rates cameras and phones record at; a variable-rate recording's average lies near one.
NOMINAL_RATES = (24, 25, 30, 48, 50, 60, 90, 100, 120, 240)
_NOMINAL_TOLERANCE = 0.02


def exact_rate(fps: float) -> Fraction:
    """25 → 25, 29.97 → 30000/1001, 23.976 → 24000/1001; an average within 2 % of a nominal
    rate (a phone's variable-rate 29.87) → that rate; anything else as given."""
    if abs(fps - round(fps)) < 0.005:
        return Fraction(round(fps))
    ntsc = fps * 1.001
    if abs(ntsc - round(ntsc)) < 0.01:
        return Fraction(round(ntsc) * 1000, 1001)
    near = min(NOMINAL_RATES, key=lambda rate: abs(fps - rate))
    if abs(fps - near) <= near * _NOMINAL_TOLERANCE:
        return Fraction(near)
    return Fraction(fps).limit_denominator(1001)


def floor_frame(seconds: float, rate: Fraction) -> int:
    return math.floor(seconds * rate + _EPSILON_FRAMES)


def ceil_frame(seconds: float, rate: Fraction) -> int:
    return math.ceil(seconds * rate - _EPSILON_FRAMES)


def frame_ranges(segments: Sequence[Span], source: SourceMedia) -> list[FrameRange]:
    """The cut's clips in source order, each on frames of ``source.rate``, laid end to end."""
    rate, last = source.rate, source.frames
    merged: list[list[int]] = []
    for span in sorted(segments, key=lambda s: (s.start, s.end)):
        start = max(0, floor_frame(span.start, rate))
        end = min(last, ceil_frame(span.end, rate))
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    ranges, record = [], 0
    for start, end in merged:
        ranges.append(FrameRange(start, end, record))
        record += end - start
    return ranges


def quantise(segments: Sequence[Span], source: SourceMedia) -> tuple[Span, ...]:
    """The segments as the timeline exports cut them, in seconds.

    Subtitles timed against these line up with an exported timeline to the frame; against the
    unquantised segments they line up with a render that cuts at the exact times.
    """
    rate = source.rate
    return tuple(
        Span(float(r.source_start / rate), float(r.source_end / rate))
        for r in frame_ranges(segments, source)
    )
