"""The values the speech engine passes around: words heard, and the plan of what to keep.

Times are seconds on the source's timeline (floats). Nothing here knows HTTP or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

# One loudness frame: ``levels[i]`` is the RMS of samples in [i * FRAME, (i + 1) * FRAME).
FRAME_SECONDS = 0.01
SAMPLE_RATE = 16_000

WordKind = Literal["word", "filler"]
# The confidence of a filler only the aligner found (the recogniser wrote no word there).
ALIGNER_FILLER_CONFIDENCE = 0.5
DecisionKind = Literal["word", "filler", "pause"]
# Why a span was dropped; ``retake`` decisions name the script line they repeat. ``override``:
# a reviewer's choice (``TakeChoice``, ``SpanChoice``) decided it, kept or dropped.
DropReason = Literal["filler", "false_start", "retake", "off_script", "silence", "override"]
TakePolicy = Literal["last", "best"]
# ``listen(start, end, written, heard)``: how much better the tokens ``written`` account for
# the audio of [start, end] than the tokens ``heard`` there (a log-likelihood ratio: above 0,
# the written ones fit better), or None when it cannot tell. ``roughy.speech.hear.align.fit``.
Listen = Callable[[float, float, Sequence[str], Sequence[str]], float | None]
# ``word_fits(start, end, written)``: how well each of the tokens ``written`` fits its part of
# the audio of [start, end], all aligned to it in order (a log score per frame: 0 is a perfect
# fit), with the seconds it was aligned to; None when they will not align.
# ``roughy.speech.hear.align.word_fits``.
WordFits = Callable[[float, float, Sequence[str]], Sequence[tuple[float, float]] | None]


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    kind: WordKind = "word"
    confidence: float = 1.0


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    words: tuple[Word, ...]
    model: str  # which recogniser made it, e.g. "whisper-base+pocketsphinx"


@dataclass(frozen=True)
class Span:
    start: float
    end: float


@dataclass(frozen=True)
class Decision:
    """One word, filler or pause of the recording, and whether the cut keeps it."""

    kind: DecisionKind
    start: float
    end: float
    keep: bool
    text: str | None = None  # None for pauses
    reason: DropReason | None = None  # set when keep is False, or when an override kept it
    line: int | None = None  # 1-based script line this belongs to (or, for a retake, repeats)
    # A doubt a reviewer should see: why something that looked like a retake or restart was
    # kept (or dropped), in words. None when the decision is plain.
    note: str | None = None
    take: int | None = None  # which attempt at ``line`` it is part of, 1-based in time order


@dataclass(frozen=True)
class TakeChoice:
    """A reviewer's choice: keep take ``take`` (1-based, in time order, false starts counted)
    of script line ``line`` (1-based) instead of the one the decision kept."""

    line: int
    take: int


@dataclass(frozen=True)
class SpanChoice:
    """A reviewer's choice: keep (or drop) every word and filler in [start, end]."""

    start: float
    end: float
    keep: bool


Override = TakeChoice | SpanChoice


class OverrideError(ValueError):
    """An override that does not fit the recording (a take it does not have); the message
    says why, for people."""


@dataclass(frozen=True)
class CutOptions:
    policy: TakePolicy = "last"
    max_pause: float = 0.4  # longer pauses inside kept speech are shortened to this
    min_filler: float = 0.12  # fillers at least this long are punched out of kept takes
    lead: float = 0.08  # kept before a take's first word
    tail: float = 0.16  # kept after a take's last word
    snap_window: float = 0.04  # cut points move to the quietest frame within ± this
    remove_fillers: bool = True  # False: fillers stay (and are still reported)
    remove_repeats: bool = True  # without a script, False keeps restarts and retakes too


@dataclass(frozen=True)
class CutPlan:
    segments: tuple[Span, ...]  # sorted, disjoint, on the source timeline
    decisions: tuple[Decision, ...]  # every word and pause, in time order
    missing_lines: tuple[int, ...] = field(default=())  # 1-based script lines never said
