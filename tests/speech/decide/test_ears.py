"""With a script, by ear: takes the recogniser misheard or garbled, misread takes it wrote as
the script has them, restarts it wrote once (stand-in ears: ``Ear`` and ``WordEar``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from roughy.speech.decide import decide
from roughy.speech.decide.ear import restored
from roughy.speech.decide.repairs import UNWORDED
from roughy.speech.types import (
    ALIGNER_FILLER_CONFIDENCE,
    FRAME_SECONDS,
    CutPlan,
    Word,
)
from tests.speech.decide.recording import (
    LINE1,
    Recording,
    check_consistent,
    each,
    items,
    kept_text,
    verdicts,
    with_sound,
)


class Ear:
    """A stand-in for ``roughy.speech.hear.align.fit``: what it answers for each take heard, by
    the words heard; every call is recorded."""

    def __init__(self, fits: dict[str, float]) -> None:
        self.fits = fits
        self.calls: list[tuple[float, float, list[str], list[str]]] = []

    def __call__(
        self, start: float, end: float, written: Sequence[str], heard: Sequence[str]
    ) -> float | None:
        self.calls.append((start, end, list(written), list(heard)))
        return self.fits.get(" ".join(heard))


def decide_by_ear(rec: Recording, script: str, ear: Ear) -> CutPlan:
    plan = decide(rec.words, script, duration=rec.duration, listen=ear)
    check_consistent(plan, rec.words, rec.duration)
    return plan


def test_a_take_the_recogniser_misheard_is_cleared_by_ear() -> None:
    """By its text the second take has two wrong words, the first none: the first would be
    kept. Its audio fits the script as well as the words heard, so it was read right and,
    being the last, it is kept."""
    rec = Recording().say(LINE1, then=1.0).say("The quick brown fax jumps over the lazy dock.")
    assert kept_text(rec.decide(LINE1)) == LINE1
    ear = Ear({"the quick brown fax jumps over the lazy dock": 0.05})
    plan = decide_by_ear(rec, LINE1, ear)
    assert kept_text(plan) == "The quick brown fax jumps over the lazy dock."
    (call,) = ear.calls  # only the take with errors is listened to
    start, end, written, heard = call
    assert written == LINE1.lower().rstrip(".").split()
    assert heard == ["the", "quick", "brown", "fax", "jumps", "over", "the", "lazy", "dock"]
    assert (start, end) == (rec.words[9].start, rec.words[-1].end)  # the take's own span


def test_a_misread_take_the_text_lets_pass_is_convicted_by_ear() -> None:
    """ "repaints" for "repairs" looks like a recogniser's slip in text; by ear the words heard
    fit clearly better than the script's, so the last take was misread and the first stays."""
    script = "The shop repairs old bicycles."
    rec = Recording().say(script, then=1.0).say("The shop repaints old bicycles.")
    assert kept_text(rec.decide(script)) == "The shop repaints old bicycles."
    plan = decide_by_ear(rec, script, Ear({"the shop repaints old bicycles": -0.5}))
    assert kept_text(plan) == script
    assert ("repaints", False, "retake", 1) in verdicts(plan)


class WordEar:
    """A stand-in for ``roughy.speech.hear.align.word_fits``: every word of a take fits at -0.003
    per frame over 0.3 s, but those ``worse`` names for the take heard at a time; every call
    is recorded."""

    def __init__(self, worse: dict[float, dict[int, tuple[float, float]]]) -> None:
        self.worse = worse
        self.calls: list[tuple[float, float, list[str]]] = []

    def __call__(
        self, start: float, end: float, written: Sequence[str]
    ) -> list[tuple[float, float]]:
        self.calls.append((start, end, list(written)))
        changed = next((w for t, w in self.worse.items() if start <= t < end), {})
        return [changed.get(k, (-0.003, 0.3)) for k in range(len(written))]


def test_a_misread_word_written_as_the_script_has_it_is_heard_by_comparing_takes() -> None:
    """Whisper wrote both takes as the script has it, so by text the last is kept. Compared
    word by word, "brown" fits the script clearly worse in the last take than in the first
    (another word was said there), and no word of the first fits clearly worse: the last
    take was misread, and the first is kept."""
    rec = Recording().say(LINE1, then=1.0).say(LINE1)
    second = rec.words[9].start
    ear = WordEar({second: {2: (-0.012, 0.3)}})
    plan = decide(rec.words, LINE1, duration=rec.duration, word_fits=ear)
    check_consistent(plan, rec.words, rec.duration)
    assert verdicts(plan) == each(LINE1, True, None, 1) + each(LINE1, False, "retake", 1)
    assert len(ear.calls) == 2  # each take once, as the script has it
    assert all(written == LINE1.lower().rstrip(".").split() for *_, written in ear.calls)
    (first, _, _), (later, _, _) = sorted(ear.calls)
    assert first < rec.words[0].start and rec.words[8].end < later < second  # with the pauses
    # Only one take: nothing to compare it with.
    alone = Recording().say(LINE1)
    ear = WordEar({alone.words[0].start: {2: (-0.012, 0.3)}})
    assert kept_text(decide(alone.words, LINE1, duration=alone.duration, word_fits=ear)) == LINE1
    assert ear.calls == []


@pytest.mark.parametrize(
    ("last", "why"),
    [
        ({2: (-0.014, 0.05)}, "a word left out, its name squeezed between its neighbours"),
        ({2: (-0.0035, 1.0)}, "a word stretched over another word's sound too"),
    ],
)
def test_a_take_outdone_by_another_word_by_word_is_misread(
    last: dict[int, tuple[float, float]], why: str
) -> None:
    rec = Recording().say(LINE1, then=1.0).say(LINE1)
    ear = WordEar({rec.words[9].start: last})
    plan = decide(rec.words, LINE1, duration=rec.duration, word_fits=ear)
    assert verdicts(plan) == each(LINE1, True, None, 1) + each(LINE1, False, "retake", 1), why


@pytest.mark.parametrize(
    ("first", "last", "why"),
    [
        ({}, {2: (-0.012, 0.05)}, "a word aligned to 50 ms fits badly however it was said"),
        ({}, {2: (-0.0025, 1.0)}, "a word stretched over more time but fitting better"),
        ({5: (-0.0055, 0.3)}, {2: (-0.012, 0.3)}, "the first fits somewhat worse elsewhere"),
        ({}, {2: (-0.0045, 0.3)}, "a word fitting a little worse is said alike"),
    ],
)
def test_takes_compared_word_by_word_that_cannot_be_told_apart_leave_the_last(
    first: dict[int, tuple[float, float]], last: dict[int, tuple[float, float]], why: str
) -> None:
    rec = Recording().say(LINE1, then=1.0).say(LINE1)
    ear = WordEar({rec.words[0].start: first, rec.words[9].start: last})
    plan = decide(rec.words, LINE1, duration=rec.duration, word_fits=ear)
    assert verdicts(plan) == each(LINE1, False, "retake", 1) + each(LINE1, True, None, 1), why


def test_a_number_said_differently_is_misread_not_misheard() -> None:
    """ "sixteen" looks like "fifteen" letter by letter, but a number said differently is a
    misread line, not the recogniser's slip: the take read right is kept."""
    script = "Bake the cookies for fifteen minutes."
    rec = Recording().say(script, then=1.0).say("Bake the cookies for 16 minutes.")
    plan = rec.decide(script)
    assert kept_text(plan) == script
    assert ("16", False, "retake", 1) in verdicts(plan)


def test_a_day_said_differently_is_misread_not_misheard() -> None:
    """ "Friday" looks like "Thursday" by its letters, but one day named for another is a
    misread line: the take read right is kept, however forgiving the text is of slips."""
    script = "The meeting has moved from Monday to Thursday afternoon."
    rec = Recording().say(script, then=1.0).say(script.replace("Thursday", "Friday"))
    plan = rec.decide(script)
    assert kept_text(plan) == script
    assert ("Friday", False, "retake", 1) in verdicts(plan)


def test_a_word_the_recogniser_left_out_does_not_clear_a_misread_take() -> None:
    """Whisper dropped "percent" from both takes and heard "six" for "five" in the last. The
    script fits the last take better than the words heard only because of the dropped word;
    listened to with "percent" put back, "six" fits better: not cleared, and the text keeps
    the first take."""
    script = "Our company donates five percent of its profit."
    rec = Recording().say("Our company donated five of its profit.", then=1.0)
    rec.say("Our company donated six of its profit.")
    written = "our company donates five percent of its profit"
    five, six = (f"our company donated {n} percent of its profit" for n in ("five", "six"))
    fits = {
        (written, five): 0.06,
        (five, "our company donated five of its profit"): 0.05,
        (written, six): -0.07,
        (six, "our company donated six of its profit"): 0.09,
        (written, "our company donated six of its profit"): 0.02,  # the dropped word's credit
    }

    def listen(start: float, end: float, said: Sequence[str], heard: Sequence[str]) -> float:
        return fits[" ".join(said), " ".join(heard)]

    plan = decide(rec.words, script, duration=rec.duration, listen=listen)
    check_consistent(plan, rec.words, rec.duration)
    assert kept_text(plan) == "Our company donated five of its profit."


def test_a_word_read_in_too_many_and_surely_heard_is_not_cleared_by_ear() -> None:
    """The aligner can stretch the line's words over a word read in too many, so the script
    may fit the last take as well as the words heard: the text's verdict stands, and the
    first take, read right, is kept. Heard unsure, the extra word may be a slip, and the ear
    decides."""
    script = "The river flooded twice last spring."
    for confidence, kept in (
        (0.95, script),
        (0.3, "The river actually flooded twice last spring."),
    ):
        rec = Recording().say(script, then=1.0).say("The river actually flooded twice last spring.")
        extra = rec.words[8]
        rec.words[8] = Word(extra.text, extra.start, extra.end, extra.kind, confidence)
        plan = decide_by_ear(
            rec, script, Ear({"the river actually flooded twice last spring": 0.07})
        )
        assert kept_text(plan) == kept
    # A word heard twice may be the recogniser's doubling or a stumble, not a word read in too
    # many: the ear decides.
    again = "The river river flooded twice last spring."
    rec = Recording().say(script, then=1.0).say(again)
    plan = decide_by_ear(rec, script, Ear({"the river river flooded twice last spring": 0.07}))
    assert kept_text(plan) == again


def test_restored_puts_back_the_words_the_recogniser_left_out() -> None:
    def words(text: str) -> list[str]:
        return text.split()

    line = words("our company donates five percent of its profit")
    assert restored(words("our company donated six of its profit"), line) == (
        words("our company donated six percent of its profit")
    )
    assert restored(words("company donates five percent of its"), line) == line
    assert restored(words("our company um donates five"), line) == (
        words("our company um donates five percent of its profit")
    )
    # "goalscule" may hold "whole school": beside a wrong word, nothing is put back alone.
    line = words("the students presented their projects to the whole school")
    heard = words("the students presented their project to the goalscule")
    assert restored(heard, line)[-2:] == ["goalscule", "school"]
    assert restored(heard, line, beside_wrong=False) == heard


def test_a_garbled_take_is_found_by_ear() -> None:
    """The recogniser garbled the only take of line 2 past recognition by text: it is
    chatter by its words, and line 2 missing. The stretch fits the script by ear: a take."""
    script = "Turn left at the bridge.\nThe market stalls sell spices and fabrics."
    garbled = "The market's own cell prices of fabrics."
    rec = Recording().say("Turn left at the bridge.", then=1.0).say(garbled)
    plan = rec.decide(script)
    assert plan.missing_lines == (2,)
    ear = Ear({"the market's own cell prices of fabrics": 0.02})
    plan = decide_by_ear(rec, script, ear)
    assert plan.missing_lines == ()
    assert kept_text(plan) == f"Turn left at the bridge. {garbled}"
    assert all(keep and line == 2 for _, keep, _, line in verdicts(plan)[5:])
    # Fitting the words heard a little better, it is still the line's only take: kept.
    ear = Ear({"the market's own cell prices of fabrics": -0.2})
    assert decide_by_ear(rec, script, ear).missing_lines == ()
    # Clearly something else by ear, it stays what the text made of it.
    ear = Ear({"the market's own cell prices of fabrics": -0.5})
    plan = decide_by_ear(rec, script, ear)
    assert plan.missing_lines == (2,)


def test_a_garbled_take_that_fits_only_with_its_edges_is_found_by_ear() -> None:
    """The recogniser's edges clipped the garbled take's first sound, so over the words'
    own span the aligner finds no path; with a little of the pauses either side it fits the
    script: the take is found, not the line reported never said."""
    script = "Turn left at the bridge.\nThe market stalls sell spices and fabrics."
    garbled = "The market's own cell prices of fabrics."
    rec = Recording().say("Turn left at the bridge.", then=1.0).say(garbled)
    begins = rec.words[5].start
    calls: list[float] = []

    def listen(
        start: float, end: float, written: Sequence[str], heard: Sequence[str]
    ) -> float | None:
        calls.append(start)
        return 0.02 if start < begins else None

    plan = decide(rec.words, script, duration=rec.duration, listen=listen)
    check_consistent(plan, rec.words, rec.duration)
    assert plan.missing_lines == ()
    assert kept_text(plan) == f"Turn left at the bridge. {garbled}"
    assert calls == [begins, pytest.approx(begins - 0.05)]


def test_a_doubtful_stretch_does_not_replace_a_take_the_line_has() -> None:
    """The garbled stretch fits the words heard a little better than the script; the line
    has a take heard clean after it, which is kept alone."""
    script = "The market stalls sell spices and fabrics."
    garbled = "The market's own cell prices of fabrics."
    rec = Recording().say(garbled, then=1.5).say(script)
    plan = decide_by_ear(rec, script, Ear({"the market's own cell prices of fabrics": -0.2}))
    assert kept_text(plan) == script


def test_a_garbled_take_stretches_to_the_end_of_its_sentence_not_into_chatter() -> None:
    """Chatter follows the garbled take without a pause: the stretch listened to ends where
    the recogniser ended the sentence."""
    script = "Turn left at the bridge.\nThe market stalls sell spices and fabrics."
    garbled = "The market's own cell prices of fabrics."
    rec = Recording().say("Turn left at the bridge.", then=1.0).say(garbled, then=0.3)
    rec.say("Sorry, one more time.")
    ear = Ear({"the market's own cell prices of fabrics": 0.02})
    plan = decide_by_ear(rec, script, ear)
    assert plan.missing_lines == ()
    assert kept_text(plan) == f"Turn left at the bridge. {garbled}"
    assert verdicts(plan)[-4:] == each("Sorry, one more time.", False, "off_script", None)


def test_a_garbled_take_stretches_over_a_lone_first_word_of_another_line() -> None:
    """The recogniser put the "I" of a false start of line 2 three seconds early, on the last
    take's end, "fail better", and wrote nothing else there. As line 2's start it would bound
    the garbled take; heard alone before a long pause, it is as likely the take's end, so the
    stretch takes it in and the ear decides."""
    script = "Try again. Fail again. Fail better.\nI didn't even check."
    rec = Recording().say("Try again. Fail again. Fail better.", then=1.5)
    rec.say("Try again.", then=0.3).say("Fail again", then=0.35).say("I", then=2.8)
    rec.say("didn't even check", then=1.0).say("I didn't even check.")
    ear = Ear({"try again fail again i": 0.03})
    plan = decide_by_ear(rec, script, ear)
    assert verdicts(plan) == (
        each("Try again. Fail again. Fail better.", False, "retake", 1)
        + each("Try again. Fail again I", True, None, 1)
        + each("didn't even check", False, "retake", 2)
        + each("I didn't even check.", True, None, 2)
    )
    # Clearly the words heard by ear, the stretch is no take: the first take stays.
    ear = Ear({"try again fail again i": -0.5})
    plan = decide_by_ear(rec, script, ear)
    assert kept_text(plan).startswith("Try again. Fail again. Fail better. I didn't")


def test_a_take_garbled_in_the_middle_is_found_whole_by_ear() -> None:
    """A false start, then a take whose middle the recogniser garbled: its beginning and its
    end match the line in two pieces. Listened to, the take is both pieces and what lies
    between them; the false start before it stays out."""
    script = "Our customers asked for a darker colour, so we made one."
    garbled = "Our customer masked for an archer, colour, so we made one."
    heard = "our customer masked for an archer colour so we made one"
    rec = Recording().say("Our customers asked for a", then=1.5).say(garbled)
    assert rec.decide(script).missing_lines == (1,)
    ear = Ear({heard: 0.01})
    plan = decide_by_ear(rec, script, ear)
    assert plan.missing_lines == ()
    assert kept_text(plan) == garbled
    assert verdicts(plan)[:5] == each("Our customers asked for a", False, "false_start", 1)
    assert [call[3] for call in ear.calls].count(heard.split()) == 1


def test_a_restart_after_a_false_start_is_not_joined_with_it_into_one_garbled_take() -> None:
    """The recogniser misheard "at nine" as "that time" in both the false start and the take
    that follows it: the take matches too little of the line to be complete by text. It says
    the false start's words again, so it is listened to alone, not joined with the false start
    into one stretch."""
    script = "The museum opens at nine and closes at five on weekdays."
    take = "the museum open that time, and closing that time on weekday."
    heard = "the museum open that time and closing that time on weekday"
    rec = Recording().say("The museum open that,", then=0.4).say(take)
    assert rec.decide(script).missing_lines == (1,)
    ear = Ear({heard: 0.09})
    plan = decide_by_ear(rec, script, ear)
    assert plan.missing_lines == ()
    assert kept_text(plan) == take
    assert verdicts(plan)[:4] == each("The museum open that,", False, "false_start", 1)
    assert [call[3] for call in ear.calls] == [heard.split()]


def test_a_garbled_take_is_one_across_a_hesitation_nobody_wrote() -> None:
    """The speaker hesitated ("hmm") in the middle of the take, and the recogniser garbled the
    words before it and wrote nothing for the hesitation: its pieces lie a long pause apart,
    but the pause holds a sound, a hesitation, so they are one take, heard whole."""
    script = "Our customers asked for a darker colour, so we made one."
    before, after = "Our customer masked for an archer,", "colour, so we made one."
    heard = "our customer masked for an archer colour so we made one"
    rec = Recording().say(before, then=0.9).say(after)
    pause = rec.words[5].end, rec.words[6].start
    levels = with_sound(rec, pause[0] + 0.25, pause[1] - 0.25)
    ear = Ear({heard: 0.02})
    plan = decide(rec.words, script, duration=rec.duration, levels=levels, listen=ear)
    check_consistent(plan, rec.words, rec.duration)
    assert plan.missing_lines == ()
    assert kept_text(plan) == f"{before} {after}"
    (hesitation,) = [d for d in items(plan) if d.text == UNWORDED]
    assert (hesitation.keep, hesitation.reason) == (False, "filler")
    # With no sound in the pause, the pieces are too far apart to be one take.
    levels = with_sound(rec, 0.0, 0.0)
    plan = decide(rec.words, script, duration=rec.duration, levels=levels, listen=ear)
    assert plan.missing_lines == (1,)


def test_a_restart_saying_again_the_false_starts_last_word_is_not_joined_with_it() -> None:
    """A false start ending "today we...", a hesitation, then the take, of which the recogniser
    wrote "welcome" and, after a sound where the rest went, the line's end from "we" on. The
    piece from "we" says that word again: a restart, not the false start's continuation, so
    the two are not listened to as one take (which would keep the false start)."""
    script = "Welcome back to the channel, today we are baking sourdough bread."
    false_start = "Welcome back to the channel, today we..."
    rec = Recording().say(false_start, then=0.25)
    rec.say("um", then=0.25).say("welcome", then=1.0).say("we are making sourdough bread.")
    pause = rec.words[8].end, rec.words[9].start
    levels = with_sound(rec, pause[0] + 0.3, pause[1] - 0.3)
    joined = "welcome back to the channel today we welcome we are making sourdough bread"
    ear = Ear({joined: 0.1})
    plan = decide(rec.words, script, duration=rec.duration, levels=levels, listen=ear)
    check_consistent(plan, rec.words, rec.duration)
    assert joined.split() not in [call[3] for call in ear.calls]
    assert not any(keep for _, keep, _, _ in verdicts(plan)[:7])


def test_a_restart_the_recogniser_wrote_once_is_split_from_its_false_start_by_ear() -> None:
    """ "The quick brown [long pause] fox jumps ...": Whisper wrote a restart's repeated first
    words once. Where the script fits the words after the pause whole, they are the take and
    the words before it a false start; where it does not, the speaker only paused."""
    rec = Recording().say("The quick brown", then=1.5).say("fox jumps over the lazy dog.")
    rest = "fox jumps over the lazy dog"
    plan = decide_by_ear(rec, LINE1, Ear({rest: 0.01}))
    assert kept_text(plan) == "fox jumps over the lazy dog."
    assert verdicts(plan)[:3] == each("The quick brown", False, "false_start", 1)
    plan = decide_by_ear(rec, LINE1, Ear({rest: -0.4}))
    assert kept_text(plan) == "The quick brown fox jumps over the lazy dog."


def test_a_restart_is_heard_from_the_unwritten_sound_before_its_first_written_word() -> None:
    """The restart's first words ("The quick brown" said again) went unwritten: a sound in
    the pause that no word covers. Listened to from that sound, the script fits the restart;
    from its first written word only, it would not."""
    rec = Recording().say("The quick brown", then=1.2).say("fox jumps over the lazy dog.")
    levels = np.zeros(math.ceil(rec.duration / FRAME_SECONDS))
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    sound = rec.words[2].end + 0.3, rec.words[2].end + 0.8
    levels[round(sound[0] / FRAME_SECONDS) : round(sound[1] / FRAME_SECONDS)] = 0.5

    def listen(start: float, end: float, written: Sequence[str], heard: Sequence[str]) -> float:
        return 0.01 if start <= sound[0] + FRAME_SECONDS else -0.4

    plan = decide(rec.words, LINE1, duration=rec.duration, levels=levels, listen=listen)
    check_consistent(plan, rec.words, rec.duration)
    assert verdicts(plan)[:3] == each("The quick brown", False, "false_start", 1)
    assert kept_text(plan) == f"{UNWORDED} fox jumps over the lazy dog."
    assert plan.segments[0].start <= sound[0]


@pytest.mark.parametrize("after", [0.05, 0.4])
def test_a_garbled_take_is_heard_to_the_unwritten_sound_right_after_its_last_word(
    after: float,
) -> None:
    """The recogniser wrote the take's last words ("on the roof") as nothing: a sound right
    after "panels" that no word covers. Listened to up to the end of that sound, the script
    fits the take: it is kept with the sound, the cut after it. A sound further from the take
    is as often a hesitation after it: the take is listened to without it, and the script
    has no room there."""
    script = "Most of our energy now comes from the solar panels on the roof.\nPour it in."
    rec = Recording().say("Most of our energy outcomes from the solar panels", then=1.2)
    rec.say("Pour it in.")
    levels = np.zeros(math.ceil(rec.duration / FRAME_SECONDS))
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    sound = rec.words[8].end + after, rec.words[8].end + after + 0.3
    levels[round(sound[0] / FRAME_SECONDS) : round(sound[1] / FRAME_SECONDS)] = 0.5
    ends: list[float] = []

    def listen(start: float, end: float, written: Sequence[str], heard: Sequence[str]) -> float:
        ends.append(end)
        return 0.05 if end >= sound[1] - FRAME_SECONDS else -0.5

    plan = decide(rec.words, script, duration=rec.duration, levels=levels, listen=listen)
    check_consistent(plan, rec.words, rec.duration)
    if after > 0.2:
        assert plan.missing_lines == (1,)
        assert ends == [rec.words[8].end]
        return
    assert plan.missing_lines == ()
    assert (
        kept_text(plan)
        == f"Most of our energy outcomes from the solar panels {UNWORDED} Pour it in."
    )
    (unwritten,) = [d for d in items(plan) if d.text == UNWORDED]
    assert (unwritten.keep, unwritten.line) == (True, 1)
    assert plan.segments[0].end >= sound[1]


@pytest.mark.parametrize("parted", [False, True])
def test_an_aligner_filler_on_a_restarts_unwritten_first_words_goes_with_the_take(
    parted: bool,
) -> None:
    """The restart's first words went unwritten, and the aligner put a long "filler" on them,
    running on into the first written word. Listened to from there the script fits: the
    "filler" is the take's start and is kept with it. Parted from the written words by a
    pause, it is a hesitation before the restart, and goes."""
    rec = Recording().say("The quick brown", then=1.0)
    rec.words.append(Word("uh", rec.at, rec.at + 0.9, "filler", ALIGNER_FILLER_CONFIDENCE))
    filler = rec.words[-1]
    rec.at += 0.9 + (0.4 if parted else 0.0)
    rec.say("fox jumps over the lazy dog.")

    def listen(start: float, end: float, written: Sequence[str], heard: Sequence[str]) -> float:
        return 0.01 if start <= filler.start else -0.4

    plan = decide(rec.words, LINE1, duration=rec.duration, listen=listen)
    check_consistent(plan, rec.words, rec.duration)
    assert verdicts(plan)[:3] == each("The quick brown", False, "false_start", 1)
    assert verdicts(plan)[3][1] is not parted
    if parted:
        assert plan.segments[0].start > filler.end
    else:
        assert plan.segments[0].start <= filler.start
