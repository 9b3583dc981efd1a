"""The decision without a script: what the speaker said again, and only that, goes.

With no script to say what was meant, the one safe evidence of a restart is the speech itself:
a stretch of words the speaker then says again. A stretch is dropped only when

- the words right after it (a restart cue such as "sorry, let me start again" aside) say it
  again from its first word, every content word of it in the same order and none replaced: a
  changed noun, number, name or day is new content ("opens at nine on weekdays" / "opens at
  ten on weekends" are two sentences, both kept), and only its last word may differ, where it
  was cut off ("the mus-" / "the museum");
- the two are close in time (``REPEAT_GAP``);
- it is a restart by its form: two words or more said again, or one word with a hesitation
  (a filler, a pause, a cue) before its repeat ("the... the museum"), never "that that".

A stretch that stops short is a ``false_start``; one that ends its sentence, a ``retake``.
When unsure, keep: a sentence that looked like the start of a retake but says something new,
or was said again too late, is kept with a ``note`` saying why. Pure: words in, labels out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from itertools import pairwise

from roughy.speech.decide.labels import KEPT, Label, ends_sentence
from roughy.speech.decide.script import SENTENCE_PAUSE
from roughy.speech.text import tokens
from roughy.speech.types import DropReason, Word

# The repeat starts at most this long after the stretch it repeats ends (cues and fillers
# between them included): later, it may as well be a point made twice.
REPEAT_GAP = 12.0
# A stretch with UNSURE_WORDS content words (its last aside: it may be cut off) heard with
# less confidence than SURE is not taken for a repeat: the recogniser may have written the
# same wrong words for two different sentences ("until you ever had to hide" for "until
# eleven at night" and for "until ten at night"). One such word is common in any sentence.
SURE = 0.5
UNSURE_WORDS = 2
# A stretch said again is at most this long.
LONGEST_STRETCH = 30.0
# A one-word stretch is a restart only with a hesitation this long (or a filler, or a cue)
# before its repeat: "the... the museum", not "I know that that is".
HESITATION = 0.25
# The repeat may hold this many words more than the stretch it repeats (a word slipped in).
SLACK = 2
# A cut-off last word shares its first letters with the word it became ("mus" / "museum").
CUT_OFF_LETTERS = 2
# Words that carry nothing a listener would miss: one of them left out of a repeat loses
# nothing. Pronouns, prepositions, verbs, adverbs and "not" carry content ("he"/"she",
# "in"/"on", "is"/"was", "right"/"left"): a stretch that says one its repeat does not is kept.
FUNCTION_WORDS = frozenset({"a", "an", "the", "and", "so", "okay", "oh", "well", "um", "uh"})
# What a speaker says between a false start and its restart ("sorry, let me start again",
# "okay, one more time", "scratch that"): a run of at most CUE_LENGTH of these words with at
# least one that speaks of the restart (RESTART_WORDS). Said between a stretch and its repeat,
# it goes with the stretch; said anywhere else, it is speech like any other.
RESTART_WORDS = frozenset(
    {
        *("sorry", "again", "start", "restart", "over", "redo", "retry", "rephrase", "oops"),
        *("wait", "scratch", "mistake", "messed", "top", "beginning", "take", "mean", "pardon"),
        "time",
    }
)
CUE_WORDS = RESTART_WORDS | {
    *("let", "us", "me", "i", "will", "try", "do", "say", "that", "this", "it", "one"),
    *("more", "time", "two", "three", "no", "okay", "right", "alright", "all", "so", "yeah"),
    *("actually", "hold", "on", "up", "from", "the", "a", "go", "once", "just", "sec"),
    *("second", "excuse", "what", "am", "oh", "well", "um", "uh", "hang"),
}
CUE_LENGTH = 8
# A cue of one word is a cue only if the word says nothing but a restart: "again", "over" or
# "wait" alone is everyday speech ("Try again. Fail again. Fail better.").
CUE_ALONE = frozenset({"sorry", "oops", "pardon", "restart", "scratch"})
# A recogniser writes the same words now contracted, now not ("it's" / "it is").
_NOT = {"can't": "can", "won't": "will", "shan't": "shall", "ain't": "is"}
_HAVE = {"'ve": "have", "'re": "are", "'ll": "will", "'m": "am", "'d": "would"}


def _spelt_out(token: str) -> list[str]:
    """A contraction as its words: "it's" → it is, "don't" → do not, "we'll" → we will."""
    if token in _NOT:
        return [_NOT[token], "not"]
    if token.endswith("n't"):
        return [token[:-3], "not"]
    if token == "let's":
        return ["let", "us"]
    if token.endswith("'s") and token[:-2] in {"it", "that", "there", "here", "what", "who"}:
        return [token[:-2], "is"]
    for ending, word in _HAVE.items():
        if token.endswith(ending) and len(token) > len(ending):
            return [token[: -len(ending)], word]
    return [token]


@dataclass(frozen=True)
class _Said:
    """The spoken tokens (fillers aside): what each says, the item it is part of, and
    whether a hesitation (a filler, or a pause of ``HESITATION``) comes before it."""

    text: list[str]
    owner: list[int]
    hesitant: list[bool]
    ends: list[bool]  # the token ends a sentence (punctuation, or a long pause after it)
    unsure: list[bool]  # a content word the recogniser heard with less than SURE confidence


def repeat_labels(items: Sequence[Word], fillers: Sequence[bool]) -> list[Label | None]:
    """Each word's label (fillers' None): kept, unless the words after it say it again.

    What is left once the restarts found are taken out is read again, until no more are
    found: a retake followed by a false start of itself and then the take that stays ("It
    opens at nine. Sorry. It opens- It opens at nine.") is said again only once the false
    start between them is gone."""
    labels: list[Label | None] = [None if filler else KEPT for filler in fillers]
    left = list(range(len(items)))
    while True:
        found = _one_reading([items[k] for k in left], [fillers[k] for k in left])
        for n, label in zip(left, found, strict=True):
            if label is not None and (labels[n] is None or labels[n] == KEPT or not label.keep):
                group = None if label.group is None else left[label.group]
                labels[n] = replace(label, group=group)
        still = [n for n in left if (label := labels[n]) is None or label.keep]
        if len(still) == len(left):
            return labels
        left = still


def _one_reading(items: Sequence[Word], fillers: Sequence[bool]) -> list[Label | None]:
    """Each word's label (fillers' None) as the words read once, in order; a dropped
    stretch's group is the item its repeat begins at."""
    said = _said(items, fillers)
    found: list[Label | None] = [None] * len(said.text)
    floor = 0  # a stretch never reaches back past the last repeat found
    for j in range(1, len(said.text)):
        repeat = _restart_at(said, items, j, floor)
        if repeat is None:
            continue
        first, reason = repeat
        label = Label(keep=False, reason=reason, group=said.owner[j])
        for p in range(first, j):
            found[p] = label
        floor = j
    labels: list[Label | None] = [None] * len(items)
    notes = _doubts(said, items, found)
    for p, k in enumerate(said.owner):
        labels[k] = found[p] or (Label(keep=True, note=notes[p]) if p in notes else KEPT)
    return labels


def _said(items: Sequence[Word], fillers: Sequence[bool]) -> _Said:
    text: list[str] = []
    owner: list[int] = []
    hesitant: list[bool] = []
    previous: int | None = None
    filled = False
    for k, word in enumerate(items):
        if fillers[k]:
            filled = True
            continue
        for n, token in enumerate(t for said in tokens(word.text) for t in _spelt_out(said)):
            text.append(token)
            owner.append(k)
            pause = word.start - items[previous].end if previous is not None else 0.0
            hesitant.append(n == 0 and (filled or pause >= HESITATION))
        previous, filled = k, False
    ends = [
        p + 1 == len(text)
        or (owner[p + 1] != owner[p] and ends_sentence(items[owner[p]].text))
        or items[owner[p + 1]].start - items[owner[p]].end >= SENTENCE_PAUSE
        for p in range(len(text))
    ]
    unsure = [
        token not in FUNCTION_WORDS and items[k].confidence < SURE
        for token, k in zip(text, owner, strict=True)
    ]
    return _Said(text, owner, hesitant, ends, unsure)


def _restart_at(
    said: _Said, items: Sequence[Word], j: int, floor: int
) -> tuple[int, DropReason] | None:
    """The first token of the stretch that the words from token ``j`` on say again, if any
    (restart cues between the two go with it), and why it goes. The longest stretch wins.

    The repeat must begin where the speech broke off: after a hesitation, a sentence's end
    or a cue; only two words or more said again word for word, with no pause among them,
    need no break ("to the, to the store"): a stretch with a pause inside is said again
    from a break too ("box, put the cup in the yellow box, put the cup" is not "in the
    yellow box, put the cup" said again)."""
    for end in _stretch_ends(said, j):
        if items[said.owner[j]].start - items[said.owner[end]].end > REPEAT_GAP:
            continue
        broke_off = end + 1 < j or said.hesitant[j] or said.ends[end]
        best: tuple[int, int] | None = None  # first token, reach of its repeat
        for first in range(end, floor - 1, -1):
            if items[said.owner[end]].end - items[said.owner[first]].start > LONGEST_STRETCH:
                break
            if said.text[first] != said.text[j]:
                continue
            if any(said.ends[first:end]) and not (first == 0 or said.ends[first - 1]):
                continue  # across a sentence's end, only whole sentences are said again
            stretch = said.text[first : end + 1]
            fluent = not any(said.hesitant[first + 1 : end + 1])  # no pause within it
            exact = len(stretch) > 1 and fluent and said.text[j : j + len(stretch)] == stretch
            if not (broke_off or exact) or sum(said.unsure[first:end]) >= UNSURE_WORDS:
                continue  # no break to restart at, or words too unsure to tell it is a repeat
            match = _repeated(stretch, said.text[j : j + len(stretch) + SLACK])
            if match.differs is None:
                best = first, match.reach
        if best is not None:
            first, reach = best
            return first, "retake" if _whole(said, end, j, reach) else "false_start"
    return None


def _whole(said: _Said, end: int, j: int, reach: int) -> bool:
    """Whether the stretch ending at ``end``, said again in ``reach`` tokens from ``j``, is
    all that its repeat's sentence says: a retake, not a start that stopped short."""
    last = j + reach - 1  # where the repeat says the stretch's last word again
    return said.ends[end] and said.ends[last] and said.text[end] == said.text[last]


def _stretch_ends(said: _Said, j: int) -> list[int]:
    """Where a stretch repeated from token ``j`` may end: right before it, or before a
    restart cue that leads up to it (shortest first; a one-word cue only of ``CUE_ALONE``)."""
    out = [j - 1]
    restarting = False
    for at in range(j - 1, max(0, j - 1 - CUE_LENGTH), -1):
        if said.text[at] not in CUE_WORDS:
            break
        restarting = restarting or said.text[at] in RESTART_WORDS
        if restarting and at > 0 and (at < j - 1 or said.text[at] in CUE_ALONE):
            out.append(at - 1)
    return out


@dataclass(frozen=True)
class _Match:
    """How ``then`` says a stretch again: ``reach``, the tokens of ``then`` up to the stretch's
    last word said again; or ``differs``, the first word of the stretch that ``then`` does not
    say and what it says there."""

    reach: int = 0
    differs: tuple[str, str] | None = None


def _repeated(stretch: Sequence[str], then: Sequence[str]) -> _Match:
    """Whether ``then`` says ``stretch`` again from its first word, every content word in
    order and none replaced (its last word may be a cut-off start of the word it became)."""
    if not then or not stretch:
        return _Match(differs=("", ""))
    if stretch[0] != then[0]:
        return _Match(differs=(stretch[0], then[0]))
    matcher = SequenceMatcher(None, stretch, then, autojunk=False)
    matched: dict[int, int] = {}
    for block in matcher.get_matching_blocks():
        for n in range(block.size):
            matched[block.a + n] = block.b + n
    at = 0  # where in ``then`` the stretch has got to
    for q, word in enumerate(stretch):
        if q in matched:
            at = matched[q] + 1
            continue
        instead = then[at] if at < len(then) else ""
        if q == len(stretch) - 1 and _cut_off(word, instead):
            at += 1
        elif word not in FUNCTION_WORDS:
            return _Match(differs=(word, instead))
    return _Match(reach=at)


def _cut_off(word: str, became: str) -> bool:
    """Whether ``word`` may be the start of ``became``, cut off."""
    if not became or len(word) >= len(became):
        return False
    return became.startswith(word) or word[:CUT_OFF_LETTERS] == became[:CUT_OFF_LETTERS]


def _doubts(said: _Said, items: Sequence[Word], found: Sequence[Label | None]) -> dict[int, str]:
    """Notes on kept sentences that the next sentence begins like: why they stay."""
    notes: dict[int, str] = {}
    starts = [0] + [p + 1 for p in range(len(said.text) - 1) if said.ends[p]]
    for first, then in pairwise(starts):
        stretch = said.text[first:then]
        if found[first] is not None or len(stretch) < 2:
            continue
        following = said.text[then : then + len(stretch) + SLACK]
        shared = SequenceMatcher(None, stretch, following, autojunk=False).find_longest_match()
        if following[:1] != stretch[:1] or 2 * shared.size < len(stretch) - 1:
            continue
        differs = _repeated(stretch, following).differs
        gap = items[said.owner[then]].start - items[said.owner[then - 1]].end
        if differs is not None:
            word, instead = differs
            note = (
                f'Kept: the next sentence begins the same way but says "{instead}" where this '
                f'says "{word}", so it is new content, not a retake.'
                if instead
                else f'Kept: the next sentence begins the same way but does not say "{word}".'
            )
        elif gap > REPEAT_GAP:
            note = f"Kept: said again {gap:.1f} s later, too far apart to be a retake."
        else:
            continue
        for p in range(first, then):
            notes[p] = note
    return notes
