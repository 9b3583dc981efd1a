"""Fillers: which items are hesitations, and which of them a cut takes out."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from roughy.speech.decide import decide
from roughy.speech.decide.repairs import UNWORDED
from roughy.speech.types import (
    ALIGNER_FILLER_CONFIDENCE,
    FRAME_SECONDS,
    Word,
)
from tests.speech.decide.recording import (
    LINE1,
    SCRIPT,
    Recording,
    check_consistent,
    each,
    items,
    kept_text,
    verdicts,
    with_sound,
)


def test_short_fillers_stay_and_long_ones_are_punched_out_of_a_take() -> None:
    rec = Recording().say("The quick brown fox", then=0.1)
    rec.words.append(Word("uh", rec.at, rec.at + 0.06, "filler"))  # aligner noise
    rec.at += 0.06 + 0.1
    rec.say("jumps over the", then=0.1)
    rec.words.append(Word("um", rec.at, rec.at + 0.3, "filler"))
    rec.at += 0.3 + 0.1
    rec.say("lazy dog.")
    plan = rec.decide(SCRIPT)
    fillers = [(d.text, d.keep, d.reason, d.line) for d in items(plan) if d.kind == "filler"]
    assert fillers == [("uh", True, None, 1), ("um", False, "filler", None)]
    assert len(plan.segments) == 2
    um = next(w for w in rec.words if w.text == "um")
    assert plan.segments[0].end <= um.start
    assert plan.segments[1].start >= um.end


def test_an_aligner_filler_touching_a_kept_word_stays_a_heard_one_goes() -> None:
    """A "filler" only the aligner found, glued to a kept word, is most often a sound of that
    word (or a word the recogniser missed): cutting it would clip speech. One the recogniser
    heard too is cut out wherever it is."""
    for confidence, kept in ((0.5, True), (0.9, False)):
        rec = Recording().say("The quick brown fox", then=0.0)
        rec.words.append(Word("ah", rec.at, rec.at + 0.2, "filler", confidence))
        rec.at += 0.2
        rec.say("jumps over the lazy dog.")
        plan = rec.decide(SCRIPT)
        check_consistent(plan, rec.words, rec.duration)
        (filler,) = [d for d in items(plan) if d.kind == "filler"]
        assert filler.keep is kept
        assert len(plan.segments) == (1 if kept else 2)


def test_a_hesitation_nobody_wrote_down_inside_a_take_is_cut_out() -> None:
    """Loud sound alone in a pause between two kept words, a breath of quiet either side,
    is a hesitation neither recogniser wrote: it goes as a filler. The same sound right
    before a take's first word is left alone (it is as often a word nobody heard)."""
    rec = Recording().say("The quick brown fox", then=0.9).say("jumps over the lazy dog.")
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    gap_start = rec.words[3].end
    levels[int((gap_start + 0.3) / FRAME_SECONDS) : int((gap_start + 0.6) / FRAME_SECONDS)] = 0.4
    plan = decide(rec.words, LINE1, duration=rec.duration, levels=levels)
    check_consistent(plan, rec.words, rec.duration)
    (sound,) = [d for d in items(plan) if d.text == UNWORDED]
    assert (sound.keep, sound.reason) == (False, "filler")
    assert sound.start == pytest.approx(gap_start + 0.3, abs=FRAME_SECONDS)
    assert sound.end == pytest.approx(gap_start + 0.6, abs=FRAME_SECONDS)
    assert len(plan.segments) == 2 and kept_text(plan) == LINE1

    rec = Recording().say("Sorry.", then=1.2).say(LINE1)
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    take = rec.words[1].start
    levels[int((take - 0.5) / FRAME_SECONDS) : int((take - 0.2) / FRAME_SECONDS)] = 0.4
    plan = decide(rec.words, LINE1, duration=rec.duration, levels=levels)
    check_consistent(plan, rec.words, rec.duration)
    assert not [d for d in items(plan) if d.text == UNWORDED]


def test_a_drawn_out_the_between_pauses_is_a_hesitation() -> None:
    """ "the" heard unsure, drawn out and alone between pauses inside a take, is a hesitation
    ("ever tried... thee... ever failed"; Whisper writes a sounded "uh" so too): cut out like
    a filler. The same word heard surely is a word read in too many, and stays."""
    line = "Ever tried ever failed no matter."
    for confidence, cut in ((0.4, True), (0.95, False)):
        rec = Recording().say("Ever tried", then=0.2).say("the", then=0.2).say(line[11:])
        rec.words[2] = replace(rec.words[2], confidence=confidence)
        plan = rec.decide(line)
        assert (kept_text(plan) == line) == cut
        assert (("the", False, "filler", None) in verdicts(plan)) == cut


def test_a_drawn_out_article_the_script_says_before_the_next_word_is_that_word() -> None:
    """ "a" heard unsure, drawn out between pauses, before the word the script has after "a":
    the article said slowly, part of the take. Cut as a hesitation, it would leave the last
    take a word short, and the earlier one would win."""
    line = "We tested it without a single problem."
    rec = Recording().say(line, then=1.5).say("We tested it without", then=0.2)
    rec.say("a", then=0.2).say("single problem.")
    drawn = len(line.split()) + 4
    rec.words[drawn] = replace(rec.words[drawn], end=rec.words[drawn].start + 0.3, confidence=0.3)
    plan = rec.decide(line)
    assert [v[1] for v in verdicts(plan)[: len(line.split())]] == [False] * len(line.split())
    assert kept_text(plan) == line


def test_a_trace_of_a_filler_next_to_a_take_is_kept_with_it() -> None:
    """A filler of a few frames is what is left of one the aligner put on the quiet tail of a
    word: cutting it out would cut into that tail. A real one, as long, goes."""
    for length, kept in ((0.04, True), (0.3, False)):
        rec = Recording().say(LINE1, then=0.1)
        rec.words.append(Word("er", rec.at, rec.at + length, "filler", 0.5))
        rec.at += length + 2.0
        plan = rec.decide(LINE1)
        (filler,) = [d for d in items(plan) if d.kind == "filler"]
        assert filler.keep is kept
        assert (plan.segments[-1].end > filler.end) is kept


def test_a_trace_of_a_filler_on_a_false_starts_tail_goes_with_it() -> None:
    """The same trace on the tail of a false start, far from the take after it, is no part of
    the take: it goes, and the take's cut does not reach back to it."""
    rec = Recording().say("The quick brown", then=0.02)
    rec.words.append(Word("er", rec.at, rec.at + 0.04, "filler", 0.5))
    trace = rec.words[-1]
    rec.at += 0.04 + 0.8
    rec.say(LINE1, then=1.0)
    plan = rec.decide(LINE1)
    (filler,) = [d for d in items(plan) if d.kind == "filler"]
    assert not filler.keep
    assert plan.segments[0].start >= trace.end


@pytest.mark.parametrize("after", [0.07, 0.25])
def test_a_sound_right_after_a_kept_word_is_kept_one_a_breath_later_is_a_hesitation(
    after: float,
) -> None:
    """Inside a kept take, the recogniser wrote "go somewhere" and "do something" and nothing
    for the sound between them. One that follows "somewhere" with barely a break is the rest
    of what was said ("and"): it stays, and no cut falls inside it. One a breath later is a
    hesitation nobody wrote, and goes as a filler."""
    script = "Go somewhere and do something."
    rec = Recording().say("Go somewhere", then=1.0).say("do something.")
    sound = rec.words[1].end + after, rec.words[1].end + after + 0.35
    plan = decide(
        rec.words,
        script,
        duration=rec.duration,
        levels=with_sound(rec, *sound),
    )
    check_consistent(plan, rec.words, rec.duration)
    assert kept_text(plan).replace(f" {UNWORDED}", "") == "Go somewhere do something."
    inside = [s for s in plan.segments if s.start <= sound[0] and sound[1] <= s.end]
    if after < 0.1:
        assert inside
        return
    assert not inside
    (hesitation,) = [d for d in items(plan) if d.text == UNWORDED]
    assert (hesitation.keep, hesitation.reason) == (False, "filler")


@pytest.mark.parametrize("sounds", [1, 2])
def test_an_aligner_filler_that_sounds_like_words_inside_a_take_stays(sounds: int) -> None:
    """The recogniser wrote "fail again, better" for "fail again, fail better", and the
    aligner put an "uh" over the "fail" it left out. Two sounds with a break between them
    are words, not a hesitation: the "filler" stays with the take and no cut falls in it.
    One sound is a hesitation, and goes."""
    script = "Fail again, fail better."
    rec = Recording().say("Fail again,", then=0.2)
    filler = Word("uh", rec.at, rec.at + 0.7, "filler", ALIGNER_FILLER_CONFIDENCE)
    rec.words.append(filler)
    rec.at += 0.7 + 0.2
    rec.say("better.")
    levels = with_sound(rec, 0.0, 0.0)
    if sounds == 2:  # "fail" as two sounds: a break of 80 ms in the middle
        middle = round((filler.start + filler.end) / 2 / FRAME_SECONDS)
        levels[middle - 4 : middle + 4] = 0.0
    plan = decide(rec.words, script, duration=rec.duration, levels=levels)
    check_consistent(plan, rec.words, rec.duration)
    (uh,) = [d for d in items(plan) if d.text == "uh"]
    assert uh.keep is (sounds == 2)
    inside = [s for s in plan.segments if s.start <= filler.start and filler.end <= s.end]
    assert bool(inside) is (sounds == 2)


@pytest.mark.parametrize(("confidence", "filler"), [(0.55, True), (0.9, False)])
def test_a_word_that_sounds_like_erm_heard_unsure_is_a_hesitation(
    confidence: float, filler: bool
) -> None:
    """ "bicycles, perm, scooters": the recogniser wrote a "hmm" as a word the script does not
    have that sounds like "erm", and was unsure of it: a hesitation, cut out of the take.
    Heard surely, it is a word read in too many."""
    script = "The shop repairs bicycles, scooters and old sewing machines."
    rec = Recording().say("The shop repairs bicycles,", then=0.2).say("perm,", then=0.2)
    rec.say("scooters and old sewing machines.")
    rec.words[4] = replace(rec.words[4], confidence=confidence)
    plan = rec.decide(script)
    (perm,) = [d for d in items(plan) if d.text == "perm,"]
    assert (perm.kind == "filler", perm.keep) == (filler, not filler)


@pytest.mark.parametrize(("length", "cut"), [(0.6, True), (0.2, False)])
def test_a_long_article_between_pauses_is_a_hesitation_that_still_matches_the_line(
    length: float, cut: bool
) -> None:
    """ "legs for, a, few minutes": the recogniser wrote an "erm" as the article the line
    says there, surely. Long and alone between pauses, it is cut as a hesitation, but the
    take still counts it as the line's word, so it is the last clean take and is kept over
    the one before it. A short "a" there is the word itself and stays."""
    script = "Stretch your legs for a few minutes every hour."
    rec = Recording().say(script, then=1.0).say("Stretch your legs for", then=0.15)
    article = Word("a,", rec.at, rec.at + length, "word", 0.91)
    rec.words.append(article)
    rec.at += length + 0.15
    rec.say("few minutes every hour.")
    plan = rec.decide(script)
    assert verdicts(plan)[:9] == each(script, False, "retake", 1)
    (said,) = [d for d in items(plan) if d.start == article.start]
    assert (said.keep, said.reason) == ((False, "filler") if cut else (True, None))
    # A take's only word stays its own, however long.
    rec = Recording().say("um", then=0.3)
    rec.words.append(Word("the", rec.at, rec.at + length, "word", 0.91))
    rec.at += length + 0.3
    plan = rec.decide("The.")
    assert plan.missing_lines == ()
    assert kept_text(plan) == "the"
