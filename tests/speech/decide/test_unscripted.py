"""The decision without a script: only what the speaker said again goes; new content stays."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roughy.speech.decide import decide
from roughy.speech.decide.repeats import REPEAT_GAP
from roughy.speech.types import FRAME_SECONDS, CutOptions, CutPlan
from tests.speech.decide.recording import (
    Recording,
    check_consistent,
    each,
    items,
    kept_text,
    long_pauses_kept,
    verdicts,
)


def decided(rec: Recording, **options: object) -> CutPlan:
    plan = decide(
        rec.words,
        None,
        duration=rec.duration,
        options=CutOptions(**options),  # type: ignore[arg-type]
    )
    check_consistent(plan, rec.words, rec.duration)
    return plan


def dropped(plan: CutPlan) -> str:
    return " ".join(d.text or "" for d in items(plan) if not d.keep)


def test_restarts_retakes_fillers_and_long_pauses_go() -> None:
    rec = (
        Recording()
        .say("So today we", then=0.8)  # false start
        .say("So today we are going to bake bread.", then=0.6)
        .say("It takes two hours.", then=0.3)  # a complete repeat
        .say("It takes two hours.", then=0.3)
        .say("um", then=0.3)
        .say("You need flour.", then=3.0)
        .say("That is all.")
    )
    plan = rec.decide(None, max_pause=0.4)
    assert verdicts(plan) == (
        each("So today we", False, "false_start", None)
        + each("So today we are going to bake bread.", True, None, None)
        + each("It takes two hours.", False, "retake", None)
        + each("It takes two hours.", True, None, None)
        + [("um", False, "filler", None)]
        + each("You need flour. That is all.", True, None, None)
    )
    assert max(long_pauses_kept(plan)) == pytest.approx(0.4)


def test_different_sentences_all_stay() -> None:
    plan = Recording().say("I think it is good.").say("I think we should go.").decide(None)
    assert all(d.keep for d in items(plan))
    assert plan.missing_lines == ()


def test_sentences_on_one_template_are_new_content_and_stay_with_a_note() -> None:
    rec = (
        Recording()
        .say("The museum opens at nine on weekdays.", then=0.6)
        .say("The museum opens at ten on weekends.", then=0.6)
        .say("Step one, open the box.", then=0.5)
        .say("Step two, open the lid.", then=0.5)
        .say("Step three, open the bag.")
    )
    plan = decided(rec)
    assert dropped(plan) == ""
    notes = {d.note for d in items(plan)}
    assert any(n and '"ten"' in n and '"nine"' in n for n in notes)
    assert any(n and '"two"' in n and '"one"' in n for n in notes)
    last = [d for d in items(plan) if d.text == "bag."]
    assert last[0].note is None


def test_a_false_start_cut_off_mid_word_goes() -> None:
    rec = Recording().say("The museum opens at ni", then=0.7).say("The museum opens at nine.")
    plan = decided(rec)
    assert dropped(plan) == "The museum opens at ni"
    assert {d.reason for d in items(plan) if not d.keep} == {"false_start"}


def test_a_false_start_that_changes_a_content_word_stays() -> None:
    rec = Recording().say("The museum opens", then=0.7).say("The gallery opens at nine.")
    plan = decided(rec)
    assert dropped(plan) == ""


def test_a_restart_cue_goes_with_the_false_start() -> None:
    rec = (
        Recording()
        .say("The first step is", then=0.5)
        .say("sorry, let me start again.", then=0.6)
        .say("The first step is to open the box.")
    )
    plan = decided(rec)
    assert dropped(plan) == "The first step is sorry, let me start again."
    assert kept_text(plan) == "The first step is to open the box."


def test_a_sorry_that_is_not_between_a_stretch_and_its_repeat_stays() -> None:
    rec = Recording().say("I am sorry.", then=0.6).say("It is late.")
    assert dropped(decided(rec)) == ""


def test_a_lone_everyday_word_is_no_restart_cue() -> None:
    """ "again" alone between two words is speech, not a cue: deliberate repetition stays."""
    rec = (
        Recording()
        .say("Try again.", then=0.6)
        .say("Fail again.", then=0.6)
        .say("Fail better.", then=0.6)
    )
    assert dropped(decided(rec)) == ""
    cued = Recording().say("Turn", then=0.4).say("sorry.", then=0.5).say("Turn left.")
    assert dropped(decided(cued)) == "Turn sorry."


def test_three_takes_keep_the_last() -> None:
    rec = Recording()
    for _ in range(3):
        rec.say("Preheat the oven to two hundred degrees.", then=1.0)
    plan = decided(rec)
    assert kept_text(plan) == "Preheat the oven to two hundred degrees."
    assert {d.reason for d in items(plan) if not d.keep} == {"retake"}


def test_a_retake_then_a_false_start_of_it_both_go() -> None:
    """Once the false start is taken out, the take before it is said again right after it."""
    rec = (
        Recording()
        .say("It opens at nine.", then=0.6)
        .say("Sorry.", then=0.5)
        .say("It opens at", then=0.5)
        .say("It opens at nine.")
    )
    plan = decided(rec)
    assert dropped(plan) == "It opens at nine. Sorry. It opens at"
    assert kept_text(plan) == "It opens at nine."
    reasons = [d.reason for d in items(plan) if not d.keep]
    assert reasons == ["retake"] * 5 + ["false_start"] * 3


def test_two_sentences_said_again_together_are_one_retake() -> None:
    rec = (
        Recording()
        .say("Mix the flour.", then=0.4)
        .say("Add the eggs.", then=1.2)
        .say("Mix the flour.", then=0.4)
        .say("Add the eggs.")
    )
    assert kept_text(decided(rec)) == "Mix the flour. Add the eggs."


def test_a_sentence_said_again_much_later_stays_with_a_note() -> None:
    rec = (
        Recording()
        .say("Remember to save your work.", then=REPEAT_GAP + 2)
        .say("Remember to save your work.")
    )
    plan = decided(rec)
    assert dropped(plan) == ""
    assert all(d.note and "too far apart" in d.note for d in items(plan)[:5])


def test_one_word_said_again_goes_only_after_a_hesitation() -> None:
    fluent = Recording().say("I know that that is true.")
    assert dropped(decided(fluent)) == ""
    hesitant = Recording().say("I went to the", then=0.4).say("the shop.")
    assert dropped(decided(hesitant)) == "the"


def test_words_said_again_at_once_go_without_a_pause() -> None:
    rec = Recording().say("We walked to the, to the station.")
    plan = decided(rec)
    assert dropped(plan) == "to the,"
    assert kept_text(plan) == "We walked to the station."


def test_a_stretch_with_a_pause_inside_is_said_again_only_from_a_break() -> None:
    """Phrases run together with commas: the one said again goes whole, not a stretch from
    the middle of one phrase into the next that happens to recur word for word."""
    rec = (
        Recording()
        .say("Put the cables in the yellow box,", then=0.4)
        .say("put the cup in the yellow box,", then=0.4)
        .say("put the cup in the yellow box.")
    )
    plan = decided(rec)
    assert dropped(plan) == "put the cup in the yellow box,"
    assert kept_text(plan) == "Put the cables in the yellow box, put the cup in the yellow box."


def test_a_repeat_is_not_found_across_the_start_of_the_next_sentence() -> None:
    rec = Recording().say("The cat sat.", then=0.6).say("The cat sat on the mat.")
    plan = decided(rec)
    assert kept_text(plan) == "The cat sat on the mat."
    assert dropped(plan) == "The cat sat."


def test_repeats_stay_when_they_are_not_to_be_removed() -> None:
    rec = Recording().say("It takes two hours.", then=0.5).say("It takes two hours.")
    assert dropped(decided(rec, remove_repeats=False)) == ""
    assert dropped(decided(rec)) == "It takes two hours."


def test_fillers_inside_kept_speech_stay_when_they_are_not_to_be_removed() -> None:
    rec = Recording().say("You need", then=0.2).say("um", then=0.2).say("flour.")
    assert dropped(decided(rec, remove_fillers=False)) == ""
    assert dropped(decided(rec)) == "um"


SLOTS = ("one", "two", "three", "nine", "ten", "monday", "friday", "paris", "rome", "bread")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(SLOTS), st.sampled_from(SLOTS)), min_size=2, max_size=8),
    st.sampled_from([0.2, 0.5, 0.8, 1.5]),
)
def test_sentences_on_one_template_with_different_content_are_never_dropped(
    fillings: list[tuple[str, str]], pause: float
) -> None:
    """However a run of sentences shares its template, each one with content of its own stays
    whole: only a sentence said again word for word (the same fillings) may go."""
    rec = Recording()
    for first, second in fillings:
        rec.say(f"The train to {first} leaves on {second} at noon.", then=pause)
    plan = decided(rec)
    kept = kept_text(plan)
    for first, second in set(fillings):
        assert f"The train to {first} leaves on {second} at noon." in kept


@pytest.mark.parametrize("parted", [False, True])
def test_words_said_again_stay_when_no_break_in_the_sound_parts_them(parted: bool) -> None:
    """A cut is never placed inside one stretch of sound: where the levels show no break
    around the words said again, they stay (with a note); with breaks, they go."""
    rec = Recording().say("We walked", then=0.12).say("to the,", then=0.12).say("to the station.")
    levels = np.full(math.ceil(rec.duration / FRAME_SECONDS), 0.01)
    words = rec.words
    levels[int(words[0].start / FRAME_SECONDS) : math.ceil(words[-1].end / FRAME_SECONDS)] = 0.5
    if parted:
        for k in (1, 3):
            quiet = (words[k].end, words[k + 1].start)
            levels[math.ceil(quiet[0] / FRAME_SECONDS) : int(quiet[1] / FRAME_SECONDS)] = 0.01
    plan = decide(words, None, duration=rec.duration, levels=levels)
    check_consistent(plan, words, rec.duration)
    if parted:
        assert dropped(plan) == "to the,"
    else:
        assert dropped(plan) == ""
        assert all("no pause" in (d.note or "") for d in items(plan)[2:4])


def test_a_retake_written_with_a_contraction_the_first_time_is_still_a_retake() -> None:
    rec = Recording().say("It's two hours by train.", then=0.8).say("It is two hours by train.")
    assert dropped(decided(rec)) == "It's two hours by train."


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("The museum is not open on Monday.", "The museum is open on Monday."),
        ("Then he takes the train.", "Then she takes the train."),
        ("Put the key in the box.", "Put the key on the box."),
        ("You can leave at six.", "You should leave at six."),
        ("Turn right at the second light.", "Turn left at the second light."),
    ],
)
def test_a_sentence_that_says_a_word_its_repeat_does_not_stays(first: str, then: str) -> None:
    """Negations, pronouns, prepositions and verbs are content: only words that carry
    nothing a listener would miss ("the", "so", "um") may be left out of a repeat."""
    rec = Recording().say(first, then=0.8).say(then)
    assert dropped(decided(rec)) == ""


def test_words_about_starting_again_between_a_stretch_and_its_repeat_go_with_it() -> None:
    rec = (
        Recording()
        .say("The first thing to do", then=0.6)
        .say("okay, let me do that one more time.", then=0.8)
        .say("The first thing to do is to read the manual.")
    )
    plan = decided(rec)
    assert kept_text(plan) == "The first thing to do is to read the manual."


@pytest.mark.parametrize(("confidence", "kept"), [(0.3, True), (0.9, False)])
def test_a_stretch_the_recogniser_was_unsure_of_is_not_taken_for_a_repeat(
    confidence: float, kept: bool
) -> None:
    """Whisper at times writes the same wrong words for two different sentences ("until you
    ever had to hide" for "until eleven at night" and "until ten at night"), unsure of them:
    words it was unsure of are no evidence that the speaker said the same thing again."""
    rec = Recording().say("The green line runs until you ever had to hide.", then=1.0)
    rec.say("The green line runs until you ever had to hide.")
    rec.words[5:8] = [replace(w, confidence=confidence) for w in rec.words[5:8]]
    plan = decided(rec)
    assert (dropped(plan) == "") == kept
