"""Where the cuts go: on the sound, in pauses, never inside a word."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from roughy.speech.decide import decide
from roughy.speech.decide.cuts import TAIL_REACH, snap
from roughy.speech.types import (
    FRAME_SECONDS,
    CutOptions,
    Word,
)
from tests.speech.decide.recording import (
    EPS,
    LINE1,
    LINE2,
    SCRIPT,
    Recording,
    check_consistent,
    items,
    kept_text,
)


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


@pytest.mark.parametrize("max_pause", [0.3, 0.4])
def test_words_heard_in_the_silence_beside_their_sound_keep_the_pause_short(
    max_pause: float,
) -> None:
    """The recogniser at times puts a sentence's last word in the silence after it, its sound
    inside the word before, and the next sentence's first word in the silence before it, its
    sound inside the word after. Neither holds a sound where it was put: the kept pause is
    measured from where the sound is."""
    rec = Recording().say("The museum opens at nine.", then=2.0).say("It closes at five.")
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.001)
    sounds = [(w.start, w.end) for w in rec.words]
    for start, end in sounds:
        levels[round(start / FRAME_SECONDS) : round(end / FRAME_SECONDS)] = 0.5
    heard = list(rec.words)
    last, first = 4, 5  # "nine." and "It", either side of the long pause
    heard[last - 1] = replace(heard[last - 1], end=sounds[last][1])  # "at" over "nine"'s sound
    heard[last] = replace(heard[last], start=sounds[last][1] + 0.02, end=sounds[last][1] + 0.25)
    heard[first] = replace(heard[first], start=sounds[first][0] - 0.27, end=sounds[first][0] - 0.2)
    heard[first + 1] = replace(heard[first + 1], start=sounds[first][0])
    plan = decide(
        heard, None, duration=rec.duration, levels=levels, options=CutOptions(max_pause=max_pause)
    )
    check_consistent(plan, rec.words, rec.duration)  # no cut inside a word as it sounds
    silence = (sounds[last][1], sounds[first][0])
    kept = sum(max(0.0, min(s.end, silence[1]) - max(s.start, silence[0])) for s in plan.segments)
    assert kept == pytest.approx(max_pause, abs=0.03)
    assert kept_text(plan) == "The museum opens at nine. It closes at five."


def test_a_long_silence_inside_a_take_is_shortened_to_max_pause() -> None:
    rec = Recording().say("The quick brown fox jumps", then=2.5).say("over the lazy dog.")
    plan = rec.decide(SCRIPT, max_pause=0.4)
    assert kept_text(plan) == LINE1
    pauses = [d for d in plan.decisions if d.kind == "pause" and d.start >= rec.words[4].end]
    pauses = [d for d in pauses if d.end <= rec.words[5].start]
    assert [(d.keep, d.reason) for d in pauses] == [(True, None), (False, "silence"), (True, None)]
    assert pauses[0].end - pauses[0].start + pauses[2].end - pauses[2].start == pytest.approx(0.4)
    assert len(plan.segments) == 2
    # Pauses at or under max_pause are untouched.
    plan = (
        Recording()
        .say("The quick brown fox jumps", then=0.4)
        .say("over the lazy dog.")
        .decide(SCRIPT, max_pause=0.4)
    )
    assert len(plan.segments) == 1
    assert all(d.keep for d in plan.decisions if d.kind == "pause" and d.line == 1)


def test_snap_picks_the_quietest_frame_in_the_window_and_stays_in_the_pause() -> None:
    levels = np.ones(300, dtype=np.float32)
    levels[103] = 0.1  # centre 1.035
    levels[110] = 0.0  # centre 1.105: outside the window
    assert snap(1.0, 0.5, 2.0, levels, 0.04) == pytest.approx(1.035)
    # The pause ends at 1.02: the quiet frame beyond it is out of reach.
    assert snap(1.001, 0.5, 1.02, levels, 0.04) == pytest.approx(1.005)
    assert snap(1.0, 0.5, 2.0, None, 0.04) == 1.0
    flat = np.ones(300, dtype=np.float32)
    assert snap(0.998, 0.5, 2.0, flat, 0.04) == pytest.approx(0.995)  # ties: nearest


def test_snap_goes_later_only_to_a_frame_clearly_quieter() -> None:
    levels = np.full(300, 0.2, dtype=np.float32)
    levels[100] = 0.1  # centre 1.005: the quietest in the window
    levels[120] = 0.06  # centre 1.205: later, but not half as loud
    assert snap(1.0, 0.5, 2.0, levels, 0.04, later=0.3) == pytest.approx(1.005)
    levels[125] = 0.04  # centre 1.255: less than half
    assert snap(1.0, 0.5, 2.0, levels, 0.04, later=0.3) == pytest.approx(1.255)
    assert snap(1.0, 0.5, 2.0, levels, 0.04) == pytest.approx(1.005)  # not looked for
    assert snap(1.0, 0.5, 1.2, levels, 0.04, later=0.3) == pytest.approx(1.005)  # past the pause


def test_a_soft_ending_is_kept_to_where_it_fades_and_the_pause_stays_short() -> None:
    """The last word's sound fades on after its edge ("moving"): the cut after it goes to
    where it has faded, up to TAIL_REACH, not into the fading. Between two kept takes the
    kept pause still adds up to ``max_pause`` (give or take the snap window)."""
    rec = Recording().say(LINE1, then=2.0).say(LINE2)
    levels = np.zeros(math.ceil(rec.duration / FRAME_SECONDS))
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    for after in (LINE1, SCRIPT):  # a take's end before a dropped stretch; between two takes
        end = rec.words[8].end
        faded = end + 0.3
        levels[int(end / FRAME_SECONDS) : int(faded / FRAME_SECONDS)] = 0.01  # the fading
        plan = decide(rec.words, after, duration=rec.duration, levels=levels)
        check_consistent(plan, rec.words, rec.duration)
        assert plan.segments[0].end >= faded
        assert plan.segments[0].end <= end + TAIL_REACH + CutOptions().snap_window
        if after == SCRIPT:
            kept_pause = plan.segments[0].end - end + rec.words[9].start - plan.segments[1].start
            assert kept_pause <= CutOptions().max_pause + 2 * CutOptions().snap_window


def test_decide_snaps_cut_points_to_quiet_frames_within_pauses() -> None:
    rec = Recording().say("So today we", then=1.0).say("So today we are going to bake bread.")
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.05)  # room tone in the pauses
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    first_kept = rec.words[3]
    quiet = int((first_kept.start - 0.08 - 0.03) / FRAME_SECONDS)
    levels[quiet] = 0.01
    # A quieter frame inside the next word, within the window, must not attract the cut.
    levels[int(first_kept.start / FRAME_SECONDS) + 2] = 0.0
    plan = decide(
        rec.words, None, duration=rec.duration, levels=levels, options=CutOptions(snap_window=0.12)
    )
    check_consistent(plan, rec.words, rec.duration)
    assert plan.segments[0].start == pytest.approx((quiet + 0.5) * FRAME_SECONDS)


def test_a_cut_moves_out_of_speech_the_recogniser_heard_no_word_in() -> None:
    """Loud sound in a dropped pause right before a kept take is a word the recogniser
    missed: the cut moves back to where the pause falls quiet, not into the take's first word."""
    rec = Recording().say("Sorry.", then=2.0).say(LINE1)
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    take = rec.words[1]
    unheard = take.start - 0.6  # 0.6 s of speech with no word, right before the take
    levels[int(unheard / FRAME_SECONDS) : int(take.start / FRAME_SECONDS)] = 0.4
    plan = decide(rec.words, LINE1, duration=rec.duration, levels=levels)
    check_consistent(plan, rec.words, rec.duration)
    assert plan.segments[0].start == pytest.approx(unheard, abs=FRAME_SECONDS)
    assert plan.segments[0].start > rec.words[0].end


def test_words_the_recogniser_made_up_in_a_pause_do_not_bound_a_cut() -> None:
    """Whisper at times writes words into the silence after a take ("I'm sorry."); the aligner
    finds no sound for them. The cut after the take goes where the take's sound ends (its last
    word runs on past its edge), not halfway to where those words were written."""
    rec = Recording().say(LINE1, then=2.0)
    end = rec.words[-1].end
    made_up = [Word("I'm", end + 0.15, end + 0.18, confidence=0.7),
               Word("sorry.", end + 0.18, end + 0.18, confidence=0.7)]  # fmt: skip
    words = rec.words + made_up
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    fades = end + 0.25  # the last word's sound lasts this long
    levels[int(end / FRAME_SECONDS) : int(fades / FRAME_SECONDS)] = 0.4
    plan = decide(words, LINE1, duration=rec.duration, levels=levels)
    check_consistent(plan, words, rec.duration)
    assert plan.segments[-1].end >= fades - EPS
    assert not [d for d in items(plan) if d.keep and d.text in {"I'm", "sorry."}]


def test_a_first_word_stretched_back_over_a_silence_starts_where_its_sound_does() -> None:
    """The aligner at times stretches a take's first word back across the silence before it
    to the chatter's end. No word holds a third of a second of silence at its start: the take
    is cut in, and its pause kept, from where the word sounds."""
    rec = Recording().say("Oops.", then=1.5).say(LINE1)
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    sounds = rec.words[1].start
    words = list(rec.words)
    words[1] = replace(words[1], start=words[0].end)  # "The" from where "Oops." ends
    plan = decide(words, LINE1, duration=rec.duration, levels=levels)
    check_consistent(plan, rec.words, rec.duration)  # no cut inside a word as it sounds
    options = CutOptions()
    assert plan.segments[0].start >= sounds - options.lead - options.snap_window - EPS
    assert kept_text(plan) == LINE1


def test_a_sentence_opener_put_on_the_tail_of_the_sentence_before_goes_with_its_own() -> None:
    """The aligner put a take's first word ("The") on the fading end of the chatter before it
    ("wrong."), then a pause, then the rest of the take. The sound there is the chatter's: the
    take is cut in after it, and whole."""
    line = "The quarterly report shows a steady rise."
    rec = Recording().say("Oops, that was wrong.", then=0.0).say("The", then=0.5).say(line[4:])
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    opener, then = rec.words[4], rec.words[5]
    said = replace(opener, start=then.start - 0.12, end=then.start)  # where "The" was said
    levels[int(said.start / FRAME_SECONDS) : int(said.end / FRAME_SECONDS)] = 0.5
    plan = decide(rec.words, line, duration=rec.duration, levels=levels)
    check_consistent(plan, [*rec.words[:4], said, *rec.words[5:]], rec.duration)
    assert kept_text(plan) == line
    assert plan.segments[0].start >= opener.end


def test_an_opener_put_on_the_end_of_a_false_start_goes_with_its_own_take() -> None:
    """The recogniser wrote "after a, the | baby": the take's "The" on the false start's
    fading end (after the comma where it heard the speech break off), a pause, then the
    rest of the take. The false start goes whole, the take stays whole."""
    line = "The baby fell asleep after a long walk."
    rec = Recording().say("The baby fell asleep after a,", then=0.9).say(line)
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    words = list(rec.words)
    fading, opener = words[5].end - 0.12, words[6]
    words[5] = replace(words[5], end=fading)
    words[6] = replace(opener, start=fading, end=fading + 0.12)
    words[7] = replace(words[7], start=opener.start)
    plan = decide(words, None, duration=rec.duration, levels=levels)
    check_consistent(plan, rec.words, rec.duration)
    assert " ".join(d.text or "" for d in items(plan) if not d.keep) == (
        "The baby fell asleep after a,"
    )
    assert kept_text(plan) == line


def test_a_cut_between_a_kept_word_and_a_filler_that_touch_goes_in_the_short_pause() -> None:
    """The aligner ran a kept word ("ordering") on into the short pause after it and started
    the filler after that pause: the cut goes in the pause the levels show, shorter as it is
    than the pause ``refit`` looks for between two words, not into the filler's sound."""
    line = "We measured the room twice before ordering the carpet."
    rec = Recording().say(line[:42], then=0.0).say("um", then=0.2).say(line[43:])
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    word, filler = rec.words[6], rec.words[7]
    meet = filler.start
    levels[round((meet - 0.15) / FRAME_SECONDS) : round((meet - 0.06) / FRAME_SECONDS)] = 0.01
    sounded = [*rec.words[:6], replace(word, end=meet - 0.15),
               replace(filler, start=meet - 0.06), *rec.words[8:]]  # fmt: skip
    plan = decide(rec.words, line, duration=rec.duration, levels=levels)
    check_consistent(plan, sounded, rec.duration)
    assert kept_text(plan) == line
    assert plan.segments[0].end <= meet - 0.06 + EPS


@pytest.mark.parametrize("parted", [False, True])
def test_a_word_made_up_from_the_sound_of_a_takes_end_stays_with_the_take(parted: bool) -> None:
    """Whisper at times writes a word over the fading end of a take ("moving. It's"), which
    the take does not have and so drops. With no break in the sound between the two, a cut
    there would clip the take's last word: the word stays, with a note. Parted by a breath,
    it goes."""
    rec = Recording().say(LINE1, then=0.05).say("It's", then=2.0)
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    words = rec.words
    levels[int(words[0].start / FRAME_SECONDS) : math.ceil(words[-1].end / FRAME_SECONDS)] = 0.5
    if parted:
        levels[
            round(words[-2].end / FRAME_SECONDS) - 3 : round(words[-1].start / FRAME_SECONDS) + 3
        ] = 0.01
    plan = decide(words, LINE1, duration=rec.duration, levels=levels)
    check_consistent(plan, words, rec.duration, as_given=False)
    made_up = items(plan)[-1]
    assert made_up.text == "It's"
    assert made_up.keep != parted
    assert (made_up.note is not None) != parted
