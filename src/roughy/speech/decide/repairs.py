"""The passes after labelling: each one rule that keeps a cut from clipping speech or keeping
a hesitation, on the draft's items (``roughy.speech.decide.draft.Draft``). In the order
``roughy.speech.decide.plan.PASSES`` runs them.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from dataclasses import replace

from roughy.speech.decide.draft import Draft
from roughy.speech.decide.labels import Label
from roughy.speech.decide.levels import (
    FILLER_BREAK,
    RUNS_ON,
    SOUNDLESS,
    TOUCHING,
    on_sound,
    refit,
)
from roughy.speech.types import Word

UNWORDED = "…"  # the text of a sound in a pause that no word covers (``levels.unworded``)
# An unworded sound inside a kept take is a hesitation when a breath this long parts it from
# the word before; one that follows the word more closely is the rest of what was said.
HESITATION_BREAK = 0.1


def unwritten_starts(draft: Draft) -> None:
    """Fillers from where a take was heard to begin (its first words went unwritten) that
    run on into its first heard item go with the take: the aligner put its "filler" on the
    words the recogniser left out. One parted from the take by a pause is a hesitation
    before it."""
    items, fillers, labels = draft.items, draft.fillers, draft.labels
    for at, onset in draft.unwritten.starts.items():
        k = at - 1
        while k >= 0 and fillers[k] and items[k].start >= onset:
            if items[k + 1].start - items[k].end > TOUCHING:
                break
            labels[k] = labels[at]
            k -= 1


def runs_on(draft: Draft) -> None:
    """Dropped words that run on into a kept word, with no break in the levels between them
    (``levels.apart``) and no more than ``RUNS_ON`` of pause, go with it: they are one stretch
    of sound, and a cut between them would clip speech. Most often the recogniser misheard
    a take's first word and it was dropped with the attempt before, or made up a word from
    the sound of a take's last one. When unsure, keep. Words the aligner found no sound for
    (``SOUNDLESS``) are not joined: they were made up in a pause. Needs the levels."""
    if draft.levels is None:
        return
    items, fillers, labels, parted = draft.items, draft.fillers, draft.labels, draft.parted
    note = "Kept: runs on into kept speech with no pause, so a cut here would clip a word."

    def joined(a: int, b: int) -> bool:
        dropped = b if labels[a].keep else a
        sounds = items[dropped].end - items[dropped].start > SOUNDLESS
        return sounds and not parted[a] and items[b].start - items[a].end <= RUNS_ON

    for k in range(len(items)):  # forwards: a kept word's end runs on
        if labels[k].keep and not fillers[k] and k + 1 < len(items):
            after = k + 1
            if not labels[after].keep and not fillers[after] and joined(k, after):
                labels[after] = replace(labels[k], note=note)
    for k in reversed(range(len(items))):  # backwards: a kept word's start
        if labels[k].keep and not fillers[k] and k > 0:
            before = k - 1
            if not labels[before].keep and not fillers[before] and joined(before, k):
                labels[before] = replace(labels[k], note=note)


def unworded_sounds(draft: Draft) -> None:
    """The unworded sounds (``levels.unworded``) inside kept speech added as dropped fillers:
    a hesitation between two kept words that nobody wrote down, parted from the word before
    by ``HESITATION_BREAK``. Sounds from where a take was heard to begin to its first heard
    item, or from its last heard item to where it was heard to end (``Draft.unwritten``), are
    added as kept words of the take. Elsewhere a sound is left to the cuts (``cuts`` moves a
    cut out of it): at a take's edge, or close after a kept word, it is as often a word the
    recogniser did not hear. Needs the levels."""
    if draft.levels is None:
        return
    items, labels, unwritten = draft.items, draft.labels, draft.unwritten
    starts = [word.start for word in items]
    before: dict[int, list[tuple[Word, bool, Label]]] = defaultdict(list)  # by the next item
    for sound in draft.sounds:
        at = bisect_left(starts, sound.start)
        owner = None
        if at < len(items) and sound.start >= unwritten.starts.get(at, math.inf):
            owner = at
        elif at > 0 and sound.end <= unwritten.ends.get(at - 1, -math.inf):
            owner = at - 1
        if owner is not None and labels[owner].keep:
            word = Word(UNWORDED, sound.start, sound.end, "word", 0.0)
            before[at].append((word, False, labels[owner]))
            continue
        inside = 0 < at < len(items) and labels[at - 1].keep and labels[at].keep
        parted = at > 0 and sound.start - items[at - 1].end >= HESITATION_BREAK
        if inside and parted and sound.end - sound.start >= draft.shortest_filler:
            word = Word(UNWORDED, sound.start, sound.end, "filler", 0.0)
            before[at].append((word, True, Label(keep=False, reason="filler")))
    out: list[Word] = []
    kinds: list[bool] = []
    marks: list[Label] = []
    for k, item in enumerate(items):
        for word, filler, label in before.get(k, ()):
            out.append(word)
            kinds.append(filler)
            marks.append(label)
        out.append(item)
        kinds.append(draft.fillers[k])
        marks.append(labels[k])
    draft.items, draft.fillers, draft.labels = out, kinds, marks


def refit_at_fillers(draft: Draft) -> None:
    """Items refitted (``levels.refit``) with a shorter pause, ``FILLER_BREAK``, where a kept
    word and a dropped filler touch: a cut goes there."""
    items, fillers, labels = draft.items, draft.fillers, draft.labels
    where = [
        labels[k - 1].keep != labels[k].keep and (fillers[k - 1] or fillers[k])
        for k in range(1, len(items))
    ]
    spans = refit([(w.start, w.end) for w in items], draft.levels, FILLER_BREAK, where)
    draft.items = [replace(w, start=a, end=b) for w, (a, b) in zip(items, spans, strict=True)]


def edges_on_sound(draft: Draft) -> None:
    """Item edges moved to where their sound is (``levels.on_sound``): the pauses the cut
    keeps are measured on the sound, not on the recogniser's guess."""
    kept = [label.keep for label in draft.labels]
    spans = on_sound([(w.start, w.end) for w in draft.items], draft.levels, kept)
    draft.items = [replace(w, start=a, end=b) for w, (a, b) in zip(draft.items, spans, strict=True)]


def phantoms_silenced(draft: Draft) -> None:
    """Dropped words the aligner found no sound for (``SOUNDLESS``) made zero-length: no cut
    is placed around a word the recogniser made up in a pause."""
    draft.items = [
        word if label.keep or word.end - word.start > SOUNDLESS else replace(word, end=word.start)
        for word, label in zip(draft.items, draft.labels, strict=True)
    ]
