"""Fillers: which heard items are hesitations, and which of those a cut keeps.

A filler is one by the recogniser's or the aligner's word, by its spelling ("um", "Errr"), by
its sound where the script has no such word ("firm" for "erm"), or drawn out as an article
("thee..."). Between two kept words a short one stays; so do traces of one next to kept speech,
aligner fillers glued to a kept word (most often a sound of that word), and aligner fillers
between kept words that sound like words (several sounds: words the recogniser put elsewhere).
Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from roughy.speech.decide.labels import DROPPED, KEPT, Label
from roughy.speech.text import is_filler, tokens
from roughy.speech.types import ALIGNER_FILLER_CONFIDENCE, Word

# A filler closer than this to a kept word is taken for part of it (see ``_glued_to_kept``).
GLUED = 0.03
GLUED_SIDES = 1
SOUND_OF_A_WORD = 0.6  # longer than this, a glued filler is a hesitation after all
# A filler shorter than this is what is left of one the aligner put on quiet (``levels.refit``
# moved its edge to the pause): it goes with the nearer word, kept or dropped, not cut around.
TRACE = 0.06
# A word the recogniser was unsure of, that sounds like "erm" ("firm", "perm") where the script
# says no such word, is a hesitation it misheard ("perm," for a "hmm" was heard at 0.51).
UNSURE = 0.6
_ERM_LIKE = re.compile(r"^[^aeiouy]?[aeiou]r[mn]$")
# "the" or "a" heard unsure (below SURE_WORD), at least DRAWN long, between pauses of at least
# DRAWN_PAUSE, is a hesitation (see ``drawn_out``).
SURE_WORD = 0.8
DRAWN = 0.25
DRAWN_PAUSE = 0.1
DRAWN_LONG = 0.4  # an article this long between pauses is a hesitation (see ``drawn_long``)


def is_hesitation(word: Word, vocabulary: set[str]) -> bool:
    """A filler by kind, or by spelling or by its sound with a script, unless the script says
    that word."""
    if word.kind == "filler":
        return True
    said = tokens(word.text)
    if vocabulary.intersection(said):
        return False
    if is_filler(word.text):
        return True
    unsure = len(said) == 1 and word.confidence < UNSURE
    return bool(vocabulary) and unsure and _ERM_LIKE.match(said[0]) is not None


def drawn_out(items: Sequence[Word], k: int, pairs: set[tuple[str, str]]) -> bool:
    """Whether item ``k`` is an article drawn out as a hesitation ("thee..."): the recogniser
    unsure of it, ``DRAWN`` long or longer (a said "the" is a fraction of that) and alone
    between pauses of ``DRAWN_PAUSE``. Whisper writes a sounded "uh" like that too. Judged on
    the words as heard: refitting may open a pause the recogniser did not hear. Where the
    script says the article before the next word heard (``pairs``: its neighbouring words),
    it is that word said slowly, and a cut there would clip the take."""
    word = items[k]
    said = tokens(word.text)
    if said not in (["the"], ["a"]) or word.confidence >= SURE_WORD:
        return False
    following = tokens(items[k + 1].text) if k + 1 < len(items) else []
    if following and (said[0], following[0]) in pairs:
        return False
    return word.end - word.start >= DRAWN and _alone(items, k)


def drawn_long(items: Sequence[Word], k: int) -> bool:
    """Whether item ``k`` is "the" or "a" at least ``DRAWN_LONG`` long alone between pauses
    of ``DRAWN_PAUSE``, however sure the recogniser: a hesitation it wrote as an article
    ("legs for, a, few minutes" for "legs for, erm, a few minutes"). Where the script says
    that article there it still counts as the script's word when takes are matched (the
    word, if said, ran on into the next), but is cut as a hesitation."""
    word = items[k]
    long = word.end - word.start >= DRAWN_LONG
    return tokens(word.text) in (["the"], ["a"]) and long and _alone(items, k)


def _alone(items: Sequence[Word], k: int) -> bool:
    """Whether item ``k`` has a pause of ``DRAWN_PAUSE`` or more on either side."""
    before = items[k].start - items[k - 1].end if k > 0 else math.inf
    after = items[k + 1].start - items[k].end if k + 1 < len(items) else math.inf
    return min(before, after) >= DRAWN_PAUSE


def with_fillers(
    items: Sequence[Word],
    fillers: Sequence[bool],
    labels: list[Label | None],
    shortest: float,
    parted: Sequence[bool],
    worded: Sequence[bool],
) -> list[Label]:
    """Fillers between two kept words stay when short, as do traces of one nearer to kept
    speech than to dropped, fillers glued to a kept word and aligner fillers between two kept
    words that sound like words; anything else with a filler goes.

    ``parted[k]``: the levels show a break between items k and k + 1; ``worded[k]``: item k
    holds several sounds (``levels.several_sounds``).
    """
    before: list[Label | None] = []
    ended: list[float] = []  # where the word before each item ends
    last: Label | None = None
    last_end = -math.inf
    for k in range(len(items)):
        before.append(last)
        ended.append(last_end)
        if not fillers[k]:
            last, last_end = labels[k], items[k].end
    out: list[Label] = [KEPT] * len(items)
    after: Label | None = None
    begins = math.inf  # where the word after the item begins
    for k in reversed(range(len(items))):
        label = labels[k]
        if not fillers[k] and label is not None:
            out[k] = label
            after, begins = label, items[k].start
        else:
            out[k] = _filler_label(items[k], before[k], after, shortest)
            word = items[k]
            nearer = before[k] if word.start - ended[k] <= begins - word.end else after
            trace = word.end - word.start < TRACE and nearer is not None and nearer.keep
            misplaced = _misplaced_words(word, before[k], after, worded[k])
            glued = _glued_to_kept(items, labels, k, parted)
            if not out[k].keep and (trace or glued or misplaced):
                out[k] = Label(keep=True, line=(after or before[k] or KEPT).line)
    return out


def _misplaced_words(word: Word, before: Label | None, after: Label | None, worded: bool) -> bool:
    """Whether an aligner filler between two kept words is words of the take the recogniser
    wrote elsewhere: it did not hear it as a filler, and the levels show several sounds in it
    (a hesitation is one). Whisper wrote "ill -disposed young man" for "he was not an ill
    disposed young man", its first words stretched over the line's beginning, and the aligner
    laid an "uh" over "an ill disposed": cutting it out would clip the take."""
    return (
        worded
        and word.confidence <= ALIGNER_FILLER_CONFIDENCE
        and before is not None
        and after is not None
        and before.keep
        and after.keep
    )


def _glued_to_kept(
    items: Sequence[Word], labels: Sequence[Label | None], k: int, parted: Sequence[bool]
) -> bool:
    """Whether a filler touches a kept word with no break between them in the levels: the
    aligner's "filler" there is most often a sound of that word (a vowel, a word the
    recogniser missed), and a cut there would clip it."""
    word = items[k]
    if word.confidence > ALIGNER_FILLER_CONFIDENCE or word.end - word.start >= SOUND_OF_A_WORD:
        return False  # the recogniser heard it too, or it is as long as a real hesitation
    touching = 0
    if k > 0 and word.start - items[k - 1].end < GLUED and not parted[k - 1]:
        touching += (labels[k - 1] or DROPPED).keep
    if k + 1 < len(items) and items[k + 1].start - word.end < GLUED and not parted[k]:
        touching += (labels[k + 1] or DROPPED).keep
    return touching >= GLUED_SIDES


def _filler_label(word: Word, before: Label | None, after: Label | None, shortest: float) -> Label:
    if before is not None and after is not None:
        if before.keep and after.keep:
            if word.end - word.start >= shortest:
                return Label(keep=False, reason="filler")
            return Label(keep=True, line=before.line if before.line == after.line else None)
        if not before.keep and before.group is not None and before.group == after.group:
            return before  # part of a dropped take or of chatter
    return Label(keep=False, reason="filler")
