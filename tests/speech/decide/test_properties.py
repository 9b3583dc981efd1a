"""Properties of every plan, on drawn recordings: no cut inside a word, decisions tile the
timeline, script lines either kept or reported missing."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from roughy.speech.decide import decide
from roughy.speech.decide.script import script_lines
from roughy.speech.types import (
    FRAME_SECONDS,
    CutOptions,
    TakePolicy,
    Word,
)
from tests.speech.decide.recording import (
    check_consistent,
    items,
)


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[Word], str | None, float, np.ndarray | None]:
    vocabulary = ["the", "fox", "jumps", "over", "dog", "flour", "sugar", "20", "two", "cups"]
    count = draw(st.integers(0, 40))
    words: list[Word] = []
    at = draw(st.floats(0.0, 1.0))
    for _ in range(count):
        at += draw(st.sampled_from([0.0, 0.01, 0.05, 0.3, 0.8, 2.5]))
        length = draw(st.floats(0.02, 0.6))
        if draw(st.integers(0, 5)) == 0:
            words.append(Word(draw(st.sampled_from(["um", "uh"])), at, at + length, "filler"))
        else:
            words.append(Word(draw(st.sampled_from(vocabulary)), at, at + length))
        at += length
    duration = at + draw(st.floats(0.0, 1.0))
    script: str | None = None
    if draw(st.booleans()):
        lines = draw(
            st.lists(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6), max_size=5)
        )
        script = "\n".join(" ".join(line) for line in lines)
    levels = None
    if draw(st.booleans()):
        frames = math.ceil(duration / FRAME_SECONDS) + 1
        levels = np.array(draw(st.lists(st.floats(0, 1), min_size=frames, max_size=frames)))
    return words, script, duration, levels


@settings(max_examples=300, deadline=None)
@given(layouts(), st.sampled_from(["last", "best"]))
def test_no_cut_inside_any_word_and_decisions_tile_the_timeline(
    layout: tuple[list[Word], str | None, float, np.ndarray | None], policy: TakePolicy
) -> None:
    words, script, duration, levels = layout
    options = CutOptions(policy=policy)
    plan = decide(words, script, duration=duration, levels=levels, options=options)
    check_consistent(plan, words, duration, as_given=levels is None)
    if script is not None:
        lines = len(script_lines(script))
        kept_lines = {d.line for d in items(plan) if d.keep and d.kind == "word"}
        assert kept_lines.isdisjoint(plan.missing_lines)
        assert set(plan.missing_lines) | kept_lines == set(range(1, lines + 1)) or not lines
