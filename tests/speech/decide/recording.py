"""Hand-built recordings for the cut decision: words laid one after another, and checks that
every plan must pass (segments in order, no cut inside a word, decisions tiling the timeline).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest

from roughy.speech.decide import decide
from roughy.speech.decide.repairs import UNWORDED
from roughy.speech.types import (
    FRAME_SECONDS,
    CutOptions,
    CutPlan,
    Decision,
    TakePolicy,
    Word,
    WordKind,
)

WORD = 0.3  # seconds per spoken word
GAP = 0.05  # between words of one phrase
EPS = 1e-9

Verdict = tuple[str | None, bool, str | None, int | None]


class Recording:
    """Phrases laid one after another; ``um`` and ``uh`` are fillers."""

    def __init__(self, start: float = 0.5) -> None:
        self.words: list[Word] = []
        self.at = start

    def say(self, text: str, then: float = 1.0) -> Recording:
        for token in text.split():
            kind: WordKind = "filler" if token.strip(",.").lower() in {"um", "uh"} else "word"
            self.words.append(Word(token, self.at, self.at + WORD, kind))
            self.at += WORD + GAP
        self.at += then - GAP
        return self

    @property
    def duration(self) -> float:
        return self.at + 0.5

    def decide(
        self, script: str | None, policy: TakePolicy = "last", max_pause: float = 0.4
    ) -> CutPlan:
        options = CutOptions(policy=policy, max_pause=max_pause)
        plan = decide(self.words, script, duration=self.duration, options=options)
        check_consistent(plan, self.words, self.duration)
        return plan


def items(plan: CutPlan) -> list[Decision]:
    return [d for d in plan.decisions if d.kind != "pause"]


def verdicts(plan: CutPlan) -> list[Verdict]:
    return [(d.text, d.keep, d.reason, d.line) for d in items(plan)]


def each(text: str, keep: bool, reason: str | None, line: int | None) -> list[Verdict]:
    return [(word, keep, reason, line) for word in text.split()]


def kept_text(plan: CutPlan) -> str:
    return " ".join(d.text or "" for d in items(plan) if d.keep)


def check_consistent(
    plan: CutPlan, words: Sequence[Word], duration: float, as_given: bool = True
) -> None:
    """Segments sorted, disjoint, in range; no cut inside any word as decided nor, with
    ``as_given``, inside a kept word as given; decisions tile the timeline. (A dropped word
    the aligner found no sound for may be cut through: ``takes.SOUNDLESS``; levels may move a
    word's edges: ``snap.refit``, ``snap.trimmed``.)"""
    segments = plan.segments
    for segment in segments:
        assert 0 <= segment.start < segment.end <= duration
    for one, two in itertools.pairwise(segments):
        assert one.end < two.start
    given = sorted(words, key=lambda w: (w.start, w.end))
    decided = [d for d in items(plan) if d.text != UNWORDED]
    kept = [w for w, d in zip(given, decided, strict=True) if d.keep]
    for segment in segments:
        for edge in (segment.start, segment.end):
            assert not as_given or not any(w.start + EPS < edge < w.end - EPS for w in kept)
            assert not any(d.start + EPS < edge < d.end - EPS for d in items(plan)), edge
    at = 0.0
    for decision in plan.decisions:
        assert decision.start == pytest.approx(at, abs=1e-9)
        assert decision.end >= decision.start
        at = decision.end
        assert (decision.reason is None) == decision.keep
        inside = [
            s for s in segments if s.start - EPS <= decision.start and decision.end <= s.end + EPS
        ]
        overlap = sum(
            max(0.0, min(decision.end, s.end) - max(decision.start, s.start)) for s in segments
        )
        if decision.keep:
            assert inside, decision
        else:
            assert overlap <= EPS, decision
    assert at == pytest.approx(duration, abs=1e-9)
    # Every word once; beyond them only sounds no word covered: dropped fillers, or kept as
    # the unwritten first words of a take.
    heard = [d for d in items(plan) if d.text != UNWORDED]
    assert len(heard) == len(words)
    sounds = [d for d in items(plan) if d.text == UNWORDED]
    assert all((d.kind == "filler") != d.keep for d in sounds)


def long_pauses_kept(plan: CutPlan) -> list[float]:
    """Lengths of kept stretches of silence between two kept items."""
    out: list[float] = []
    run = 0.0
    for decision in plan.decisions:
        if decision.kind == "pause" and decision.keep:
            run += decision.end - decision.start
        elif decision.kind != "pause":
            out.append(run)
            run = 0.0
    return out


SCRIPT = """The quick brown fox jumps over the lazy dog.

Add two cups of flour and twenty grams of sugar.
"""
LINE1 = "The quick brown fox jumps over the lazy dog."
LINE2 = "Add two cups of flour and twenty grams of sugar."


def with_sound(rec: Recording, start: float, end: float) -> np.ndarray:
    """Levels loud over the recording's words and over [start, end], silent elsewhere."""
    levels = np.zeros(math.ceil(rec.duration / FRAME_SECONDS))
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    levels[round(start / FRAME_SECONDS) : round(end / FRAME_SECONDS)] = 0.5
    return levels
