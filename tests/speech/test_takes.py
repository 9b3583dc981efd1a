"""The cut decision on hand-built words: takes, false starts, chatter, fillers, pauses, cuts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roughy.speech.ear import restored
from roughy.speech.script import script_lines
from roughy.speech.snap import TAIL_REACH, snap
from roughy.speech.takes import UNWORDED, decide
from roughy.speech.types import (
    ALIGNER_FILLER_CONFIDENCE,
    FRAME_SECONDS,
    CutOptions,
    CutPlan,
    TakePolicy,
    Word,
)
from tests.speech.recording import (
    EPS,
    GAP,
    Recording,
    check_consistent,
    each,
    items,
    kept_text,
    verdicts,
)

# --- with a script ---------------------------------------------------------------------------

SCRIPT = """The quick brown fox jumps over the lazy dog.

Add two cups of flour and twenty grams of sugar.
"""
LINE1 = "The quick brown fox jumps over the lazy dog."
LINE2 = "Add two cups of flour and twenty grams of sugar."


def test_two_takes_and_an_um_keep_only_the_second_take() -> None:
    rec = Recording().say(LINE1).say("um", then=0.6).say(LINE1).say(LINE2)
    plan = rec.decide(SCRIPT)
    n1 = len(LINE1.split())
    expected = [
        *each(LINE1, False, "retake", 1),
        ("um", False, "filler", None),
        *each(LINE1, True, None, 1),
        *each(LINE2, True, None, 2),
    ]
    assert verdicts(plan) == expected
    assert plan.missing_lines == ()
    # Lead before the kept take, tail after the last word; the take's inner pauses untouched.
    second = rec.words[n1 + 1]
    assert plan.segments[0].start == pytest.approx(second.start - 0.08)
    assert plan.segments[-1].end == pytest.approx(rec.words[-1].end + CutOptions().tail)


def test_a_false_start_then_a_full_take() -> None:
    plan = Recording().say("The quick brown fox", then=0.5).say(LINE1).say(LINE2).decide(SCRIPT)
    assert verdicts(plan)[:4] == each("The quick brown fox", False, "false_start", 1)
    assert kept_text(plan) == f"{LINE1} {LINE2}"


def test_a_wrong_word_take_loses_to_a_later_correct_take() -> None:
    wrong = "Add two cups of flower and twenty grams of sugar."
    plan = Recording().say(LINE1).say(wrong).say(LINE2).decide(SCRIPT)
    assert kept_text(plan) == f"{LINE1} {LINE2}"
    dropped = [v for v in verdicts(plan) if not v[1]]
    assert dropped == each(wrong, False, "retake", 2)


@pytest.mark.parametrize("policy", ["last", "best"])
def test_a_wrong_word_take_after_a_correct_one_loses_too(policy: TakePolicy) -> None:
    """Policy ``last`` keeps the last take *whose words match*: the earlier correct one here."""
    wrong = "Add two cups of flour and thirty grams of sugar."
    plan = Recording().say(LINE1).say(LINE2).say(wrong).decide(SCRIPT, policy=policy)
    assert kept_text(plan) == f"{LINE1} {LINE2}"
    assert [v for v in verdicts(plan) if not v[1]] == each(wrong, False, "retake", 2)


def test_a_wrong_take_is_kept_when_no_take_is_correct() -> None:
    wrong = "Add two cups of flower and twenty grams of sugar."
    plan = Recording().say(LINE1).say(wrong).decide(SCRIPT)
    assert kept_text(plan) == f"{LINE1} {wrong}"
    assert plan.missing_lines == ()


def test_chatter_between_takes_is_off_script() -> None:
    plan = (
        Recording()
        .say("The quick brown fox jumps over the lazy frog.")
        .say("sorry, let me do that again", then=1.5)
        .say(LINE1)
        .say(LINE2)
        .decide(SCRIPT)
    )
    chatter = [v for v in verdicts(plan) if v[2] == "off_script"]
    assert chatter == each("sorry, let me do that again", False, "off_script", None)
    assert kept_text(plan) == f"{LINE1} {LINE2}"
    # The chatter's inner pauses go with it; the dead air around it is silence.
    reasons = {d.reason for d in plan.decisions if d.kind == "pause" and not d.keep}
    assert reasons == {"off_script", "retake", "silence"}


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


def test_a_line_never_said_is_missing_and_not_invented() -> None:
    script = f"{LINE1}\nA line nobody reads aloud.\n{LINE2}"
    plan = Recording().say(LINE1).say(LINE2).decide(script)
    assert plan.missing_lines == (2,)
    assert {d.line for d in items(plan)} == {1, 3}
    assert kept_text(plan) == f"{LINE1} {LINE2}"


def test_a_line_said_once_is_kept_whole() -> None:
    plan = Recording().say(LINE1).decide(LINE1)
    assert verdicts(plan) == each(LINE1, True, None, 1)
    assert len(plan.segments) == 1


def test_numbers_match_whether_written_as_digits_or_words() -> None:
    digits = "Add two cups of flour and 20 grams of sugar."
    plan = Recording().say(digits).decide(LINE2)
    assert all(d.keep for d in items(plan))
    plan = Recording().say(LINE2).say("um").say(LINE2).decide(digits)
    assert [d.keep for d in items(plan)] == [False] * 10 + [False] + [True] * 10
    assert [d.reason for d in items(plan)][:10] == ["retake"] * 10


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


def test_policy_best_keeps_the_highest_score_and_last_the_latest_clean_take() -> None:
    long_line = "One two three four five six seven eight nine ten eleven twelve thirteen."
    slip = "One two three four five six seven eight nine ten eleven twelve fourteen."
    # A misread word makes a take wrong next to a right one, even in a long line.
    rec = Recording().say(long_line).say(slip)
    assert kept_text(rec.decide(long_line, policy="last")) == long_line
    assert kept_text(rec.decide(long_line, policy="best")) == long_line
    # The same recogniser slip in two takes leaves both as right as each other: the last wins.
    heard = "One two three four five six seven eight nine ten eleven twelve thirteens."
    rec = Recording().say(long_line.replace("three", "tree")).say(heard.replace("three", "tree"))
    assert kept_text(rec.decide(long_line, policy="last")) == heard.replace("three", "tree")
    # With only wrong takes, both keep the one with fewer errors ("flower" looks like "flour":
    # it may be the recogniser's; "thirty" for "twenty" is a misread word).
    one_wrong = "Add two cups of flower and twenty grams of sugar."
    two_wrong = "Add two cups of flower and thirty grams of sugar."
    rec = Recording().say(one_wrong).say(two_wrong)
    assert kept_text(rec.decide(LINE2, policy="last")) == one_wrong
    assert kept_text(rec.decide(LINE2, policy="best")) == one_wrong


def test_one_look_alike_slip_leaves_the_last_take_clean() -> None:
    """A word heard that looks like the script's ("on" for "of", "vase" for "face") is as
    likely the recogniser's slip as the speaker's: one such slip in the last take still makes
    it the take kept, over an earlier take heard word for word."""
    slipped = LINE2.replace("cups of", "cups on")
    rec = Recording().say(LINE2).say(slipped)
    assert kept_text(rec.decide(LINE2, policy="last")) == slipped
    # A word unlike the script's is misread: the earlier take stays.
    misread = LINE2.replace("cups of", "cups at")
    rec = Recording().say(LINE2).say(misread)
    assert kept_text(rec.decide(LINE2, policy="last")) == LINE2


def test_a_take_heard_with_one_word_more_at_its_end_is_kept_to_its_sentence_end() -> None:
    """The recogniser heard the line's last words as one word more ("for all those two
    centuries." for "for almost a century."): the take runs to the end of the sentence as
    heard, not one word short of it."""
    heard = "The painting was hidden in an attic for all those two centuries."
    rec = Recording().say(heard)
    plan = rec.decide("The painting was hidden in an attic for almost a century.")
    assert kept_text(plan) == heard
    # Without the sentence's end there, the word after the line is not taken in.
    rec = Recording().say(heard.rstrip("."))
    plan = rec.decide("The painting was hidden in an attic for almost a century.")
    assert kept_text(plan).endswith("two")


def test_a_word_after_a_pause_is_not_the_lines_end_run_on() -> None:
    """The line is said whole, then, after a pause, the first words of a retake that the
    recogniser wrote as one word ("himself.") ending the sentence: with the pause between,
    that word is not the line's end heard as one word more. It goes, and the cut with it."""
    line = "Go somewhere and do something."
    rec = Recording().say(line.rstrip("."), then=0.3).say("himself.")
    plan = rec.decide(line)
    assert kept_text(plan) == line.rstrip(".")
    assert plan.segments[-1].end < rec.words[-1].start
    rec = Recording().say(line.rstrip("."), then=GAP).say("himself.")
    assert kept_text(rec.decide(line)) == "Go somewhere and do something himself."


def test_takes_are_kept_in_script_order() -> None:
    """Line 2's last take precedes a late retake of line 1: the late retake cannot be used."""
    plan = Recording().say(LINE1).say(LINE2).say(LINE1).decide(SCRIPT)
    assert kept_text(plan) == f"{LINE1} {LINE2}"
    assert [v[2] for v in verdicts(plan)][-9:] == ["retake"] * 9


def test_repeated_script_lines_each_get_a_take() -> None:
    script = "Thank you.\nThe quick brown fox jumps over the lazy dog.\nThank you."
    plan = Recording().say("Thank you.").say(LINE1).say("Thank you.").decide(script)
    assert [v[3] for v in verdicts(plan)] == [1, 1] + [2] * 9 + [3, 3]
    assert plan.missing_lines == ()


def test_script_lines_split_a_single_paragraph_into_sentences() -> None:
    assert script_lines("One two. Three four? Five!") == ["One two.", "Three four?", "Five!"]
    assert script_lines("\n  One two. Three.\n\n---\nFour\n") == ["One two. Three.", "Four"]


def test_no_words_no_segments() -> None:
    plan = decide([], SCRIPT, duration=3.0)
    assert plan.segments == ()
    assert plan.missing_lines == (1, 2)
    assert [(d.kind, d.keep, d.reason) for d in plan.decisions] == [("pause", False, "silence")]


# --- cut points ------------------------------------------------------------------------------


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


class Ear:
    """A stand-in for ``roughy.speech.align.fit``: what it answers for each take heard, by
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
    """A stand-in for ``roughy.speech.align.word_fits``: every word of a take fits at -0.003
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


def with_sound(rec: Recording, start: float, end: float) -> np.ndarray:
    """Levels loud over the recording's words and over [start, end], silent elsewhere."""
    levels = np.zeros(math.ceil(rec.duration / FRAME_SECONDS))
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    levels[round(start / FRAME_SECONDS) : round(end / FRAME_SECONDS)] = 0.5
    return levels


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


def test_a_take_whose_middle_was_misheard_is_not_split_into_a_false_start() -> None:
    """ "the old" matches the line's start, "ships along the rocky shore" its end, and three
    misheard words lie between: one take, kept whole, not a false start and a take."""
    script = "The old lighthouse still guides ships along the rocky shore."
    heard = "The old light has still guidance ships along the rocky shore."
    plan = Recording().say(heard).decide(script)
    assert verdicts(plan) == each(heard, True, None, 1)


def test_a_word_unlike_the_lines_first_parted_from_the_take_by_a_pause_is_not_its_start() -> None:
    """The recogniser missed the take's first word ("feels") and wrote the chatter's last
    word ("about") just before it: parted by a pause and nothing like "feels", it is chatter,
    not the take's first word misheard."""
    line = "Feels like these days go on forever."
    rec = Recording().say("We had a long discussion about", then=0.45).say(line[6:])
    plan = rec.decide(line)
    assert kept_text(plan) == line[6:]
    assert verdicts(plan)[:6] == each("We had a long discussion about", False, "off_script", None)
    # Without the pause it is taken for the first word misheard.
    rec = Recording().say("We had a long discussion about", then=0.05).say(line[6:])
    assert kept_text(rec.decide(line)) == "about " + line[6:]


def test_compounds_match_whether_written_together_or_apart() -> None:
    """ "handmade" heard for the script's "hand made", "light house" for "lighthouse": the
    same words, so the takes are complete and clean and the last one is kept."""
    script = "The stalls sell hand made jewelry.\nThe old lighthouse guides ships."
    rec = Recording()
    rec.say("The stalls sell hand made jewelry.", then=1.0)
    rec.say("The stalls sell handmade jewelry.", then=1.0)
    rec.say("The old lighthouse guides ships.", then=1.0)
    rec.say("The old light house guides ships.")
    plan = rec.decide(script)
    assert plan.missing_lines == ()
    assert kept_text(plan) == "The stalls sell handmade jewelry. The old light house guides ships."


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


def test_a_murmur_after_a_take_before_a_pause_stays_with_the_take() -> None:
    """A word barely heard right after a take, then silence, is the recogniser's reading of
    the take's soft ending: cutting before it would clip that ending. So is one heard very
    short, however sure the recogniser was of it."""
    for confidence, length, kept in ((0.2, 0.25, True), (0.9, 0.25, False), (0.9, 0.08, True)):
        rec = Recording().say(LINE1, then=0.0)
        rec.words.append(Word("Go", rec.at + 0.05, rec.at + 0.05 + length, "word", confidence))
        rec.at += 2.0
        plan = rec.decide(LINE1)
        assert verdicts(plan)[-1][1] is kept


@pytest.mark.parametrize("confidence", [0.3, 0.9])
def test_a_murmur_followed_by_another_barely_heard_word_stays_with_the_take(
    confidence: float,
) -> None:
    """ "off" barely heard on the take's fading end, then a short pause and "there." where the
    speaker hesitated: a word barely heard is no speech after the murmur, which stays with
    the take; the hesitation goes. Heard surely, "there." is a word said after it: the
    murmur goes with it."""
    rec = Recording().say(LINE1, then=0.0)
    at = rec.at + 0.1
    rec.words.append(Word("off", at, at + 0.35, "word", 0.1))
    rec.words.append(Word("there.", at + 0.7, at + 1.0, "word", confidence))
    rec.at = at + 3.0
    plan = rec.decide(LINE1)
    murmur, after = verdicts(plan)[-2:]
    assert after[1:] == (False, "off_script", None)
    assert murmur[1:] == ((True, None, 1) if confidence < 0.5 else (False, "off_script", None))


def test_a_murmur_followed_only_by_soundless_made_up_words_stays_with_the_take() -> None:
    """Whisper's "Thank you very much." after a take: "Thank" barely heard on the take's fading
    end, the rest written where the aligner found no sound. Those are no speech after it: the
    murmur stays with the take, and the cut goes after it."""
    rec = Recording().say(LINE1, then=0.0)
    at = rec.at + 0.02
    rec.words.append(Word("Thank", at, at + 0.5, "word", 0.01))
    rec.words += [Word(text, at + 0.5, at + 0.5, "word", 0.9) for text in ("you", "very", "much.")]
    rec.at += 3.0
    plan = rec.decide(LINE1)
    assert [v[1] for v in verdicts(plan)[-4:]] == [True, False, False, False]
    assert plan.segments[-1].end >= at + 0.5 - EPS


def test_a_sentence_opener_moved_on_to_chatter_is_no_murmur_of_the_take() -> None:
    """Barely heard "Them," glued to the take's last word, then a long pause and chatter: the
    aligner put the chatter's first sound on the take's tail. Moved on to the chatter it opens,
    it goes with it, and no kept piece of it is left before the chatter."""
    rec = Recording().say(LINE1, then=0.0)
    rec.words.append(Word("Them,", rec.at, rec.at + 0.1, "word", 0.05))
    rec.at += 0.1 + 3.0
    chatter = rec.at
    rec.say("let me think about how to say this.")
    plan = rec.decide(LINE1)
    opener = next(d for d in items(plan) if d.text == "Them,")
    assert not opener.keep
    assert plan.segments[-1].end < chatter - 1.0


def test_a_murmur_after_a_false_start_goes_with_the_false_start() -> None:
    """Barely heard "The" right after a false start, then a pause, then the take: the "The"
    is the false start's ending, dropped with it, not the first word of the take."""
    rec = Recording().say("The quick brown fox", then=0.0)
    rec.words.append(Word("The", rec.at + 0.05, rec.at + 0.2, "word", 0.1))
    rec.at += 1.5
    rec.say("The quick brown fox jumps over the lazy dog.")
    plan = rec.decide(LINE1)
    assert verdicts(plan)[:5] == each("The quick brown fox The", False, "false_start", 1)
    assert kept_text(plan) == LINE1


def test_a_murmur_stays_with_the_take_when_refitting_put_a_pause_before_it() -> None:
    """Heard touching the take's last word, the murmur starts later once the levels show a
    quiet run between them: still the take's soft ending, kept with it."""
    rec = Recording().say(LINE1, then=0.0)
    last = rec.words[-1]
    rec.words.append(Word("Go", last.end, last.end + 0.45, "word", 0.3))
    rec.at += 2.0
    levels = np.zeros(math.ceil(rec.duration / FRAME_SECONDS))
    for word in rec.words:
        levels[int(word.start / FRAME_SECONDS) : math.ceil(word.end / FRAME_SECONDS)] = 0.5
    quiet = last.end, last.end + 0.3  # the aligner's "Go" begins with 0.3 s of quiet
    levels[int(quiet[0] / FRAME_SECONDS) : int(quiet[1] / FRAME_SECONDS)] = 0.0
    plan = decide(rec.words, LINE1, duration=rec.duration, levels=levels)
    check_consistent(plan, rec.words, rec.duration)
    murmur = items(plan)[-1]
    assert murmur.start >= quiet[1] - FRAME_SECONDS  # refitted past the quiet
    assert murmur.keep


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


def test_words_the_line_lacks_across_a_long_pause_are_not_stepped_over_into_one_take() -> None:
    """ "I didn't [pause] seven of clubs. even check ...": a false start, chatter, and a take
    whose first words the recogniser left out; not one take with three words too many. A
    word heard wrong in a word's place after a long pause ("Failure" for "fail") is still
    part of the take."""
    script = "I didn't even check yesterday whether it was moving."
    rec = Recording().say("I didn't", then=1.5).say("seven of clubs.", then=0.5)
    rec.say("even check yesterday whether it was moving.")
    plan = rec.decide(script)
    assert kept_text(plan) == "even check yesterday whether it was moving."
    assert verdicts(plan)[:2] == each("I didn't", False, "false_start", 1)
    assert verdicts(plan)[2:5] == each("seven of clubs.", False, "off_script", None)
    line = "Try again fail again fail better"
    rec = Recording().say("Try again", then=1.0).say("failure again fail better")
    assert kept_text(rec.decide(line)) == "Try again failure again fail better"


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
