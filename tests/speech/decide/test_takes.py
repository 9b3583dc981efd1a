"""With a script, by the text: takes, false starts, wrong words, chatter, missing lines,
murmurs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from roughy.speech.decide import decide
from roughy.speech.decide.script import script_lines
from roughy.speech.types import (
    FRAME_SECONDS,
    CutOptions,
    TakePolicy,
    Word,
)
from tests.speech.decide.recording import (
    EPS,
    GAP,
    LINE1,
    LINE2,
    SCRIPT,
    Recording,
    check_consistent,
    each,
    items,
    kept_text,
    verdicts,
)


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
