"""Where the cuts go: on the sound, in pauses, never inside a word."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from roughy.speech.takes import decide
from roughy.speech.types import FRAME_SECONDS, CutOptions
from tests.speech.recording import Recording, check_consistent


@pytest.mark.parametrize("max_pause", [0.3, 0.4, 0.8])
def test_a_kept_pause_is_as_long_as_the_setting_on_the_sound(max_pause: float) -> None:
    """The recogniser's word edges run a quarter of a second into the pauses around them; the
    pause the cut keeps is measured where the sound is, so it is no longer than asked."""
    rec = Recording().say("The museum opens at nine.", then=2.0).say("It closes at five.")
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.001)
    sounds = [(w.start, w.end) for w in rec.words]
    for start, end in sounds:
        levels[round(start / FRAME_SECONDS) : round(end / FRAME_SECONDS)] = 0.5
    overrun = 0.25
    heard = list(rec.words)
    last, first = 4, 5  # the words either side of the long pause
    heard[last] = replace(heard[last], end=heard[last].end + overrun)
    heard[first] = replace(heard[first], start=heard[first].start - overrun)
    plan = decide(
        heard, None, duration=rec.duration, levels=levels, options=CutOptions(max_pause=max_pause)
    )
    check_consistent(plan, heard, rec.duration, as_given=False)
    silence = (sounds[last][1], sounds[first][0])
    kept = sum(max(0.0, min(s.end, silence[1]) - max(s.start, silence[0])) for s in plan.segments)
    assert kept == pytest.approx(max_pause, abs=0.03)
    assert all(s.start <= sounds[0][0] for s in plan.segments[:1])
    assert plan.segments[-1].end >= sounds[-1][1]
