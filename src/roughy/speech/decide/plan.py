"""``decide``: what to keep of a recording. Its steps, each in its own module:

1. *heard*: the words sanitised and their edges fitted to the levels (``levels``), and which
   of them are hesitations (``fillers``);
2. *labelled*: each word kept or dropped, and why: with a script by takes (``takes``),
   without one by what the speaker said again (``repeats``); then which fillers stay;
3. the ``PASSES`` (``repairs``): one rule each, from where the recogniser left words out to
   where the sound of a word begins and ends;
4. a reviewer's choices, where there are (``overrides``);
5. *cut*: segments with every edge in a pause (``cuts``), and a decision for every word,
   filler and pause (``report``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from roughy.speech.decide import overrides as choices
from roughy.speech.decide import repairs
from roughy.speech.decide.cuts import cut_segments
from roughy.speech.decide.draft import Draft, Unwritten
from roughy.speech.decide.fillers import drawn_long, drawn_out, is_hesitation, with_fillers
from roughy.speech.decide.labels import KEPT, Label, ends_sentence
from roughy.speech.decide.levels import (
    SOUNDLESS,
    Levels,
    apart,
    reattached,
    refit,
    several_sounds,
    trimmed,
    unworded,
)
from roughy.speech.decide.repeats import repeat_labels
from roughy.speech.decide.report import decisions
from roughy.speech.decide.script import script_lines
from roughy.speech.decide.takes import keep_murmurs, script_labels
from roughy.speech.text import tokens
from roughy.speech.types import CutOptions, CutPlan, Listen, Override, Word, WordFits

# After labelling, in this order.
PASSES: tuple[Callable[[Draft], None], ...] = (
    repairs.unwritten_starts,
    repairs.runs_on,
    repairs.unworded_sounds,
    repairs.refit_at_fillers,
    repairs.edges_on_sound,
    repairs.phantoms_silenced,
)


@dataclass(frozen=True)
class _Heard:
    """The words as heard (sanitised), as fitted to the levels (``items``), and which of
    them a sentence's opener was moved on to (``levels.reattached``)."""

    heard: list[Word]
    items: list[Word]
    moved_on: list[bool]


def decide(
    words: Sequence[Word],
    script: str | None,
    *,
    duration: float,
    levels: Levels | None = None,
    options: CutOptions = CutOptions(),
    listen: Listen | None = None,
    word_fits: WordFits | None = None,
    overrides: Sequence[Override] = (),
) -> CutPlan:
    """What to keep of a recording, given its words (and fillers) and, optionally, its script.

    Script lines are numbered as ``script_lines`` returns them. A script with no words is no
    script. Overlapping words are clipped so that each starts where the previous one ends.
    ``listen`` (``roughy.speech.hear.align.fit`` on the recording) checks takes the recogniser
    may have misheard against the script, and ``word_fits`` (``...align.word_fits``) compares
    a line's takes word by word (see ``ear``). ``overrides``, a reviewer's choices, are
    applied last (``overrides``); one that does not fit raises ``OverrideError``.
    """
    heard = _heard(words, duration, levels)
    draft, missing = _labelled(heard, script, levels, options, (listen, word_fits))
    for step in PASSES:
        step(draft)
    choices.apply(draft, overrides, len(script_lines(script)) if script is not None else 0)
    items, labels = draft.items, draft.labels
    sounding = [k for k, w in enumerate(items) if labels[k].keep or w.end - w.start > SOUNDLESS]
    segments = cut_segments(
        [(items[k].start, items[k].end) for k in sounding],
        [labels[k].keep for k in sounding],
        duration,
        levels,
        options,
    )
    takes = choices.take_numbers(labels, draft.fillers)
    report = decisions(items, draft.fillers, labels, segments, duration, takes)
    return CutPlan(tuple(segments), tuple(report), tuple(missing))


def _heard(words: Sequence[Word], duration: float, levels: Levels | None) -> _Heard:
    heard = _sanitised(words, duration)
    opens = [k > 0 and _breaks(heard[k - 1].text) for k in range(len(heard))]
    fitted = trimmed(refit([(w.start, w.end) for w in heard], levels), levels)
    spans = reattached(fitted, opens)
    moved_on = [then > start for (then, _), (start, _) in zip(spans, fitted, strict=True)]
    items = [replace(w, start=a, end=b) for w, (a, b) in zip(heard, spans, strict=True)]
    return _Heard(heard, items, moved_on)


def _labelled(
    heard: _Heard,
    script: str | None,
    levels: Levels | None,
    options: CutOptions,
    ears: tuple[Listen | None, WordFits | None],
) -> tuple[Draft, list[int]]:
    """The draft with every item labelled, and the script lines never said."""
    lines = [tokens(line) for line in script_lines(script)] if script is not None else []
    vocabulary = {token for line in lines for token in line}
    pairs = {pair for line in lines for pair in pairwise(line)}
    items = heard.items
    spans = [(w.start, w.end) for w in items]
    # Hesitations as the takes are matched, and as they are cut (see ``fillers.drawn_long``).
    unsaid = [
        is_hesitation(word, vocabulary) or drawn_out(heard.heard, k, pairs)
        for k, word in enumerate(items)
    ]
    sounds = unworded(spans, levels)
    missing: list[int] = []
    unwritten = Unwritten()
    if lines:
        found, missing, unwritten = script_labels(
            items, unsaid, lines, options.policy, ears, sounds
        )
        keep_murmurs(found, heard.heard, unsaid, heard.moved_on)
        # A take's only word stays its own, however long.
        sizes = Counter(label.group for label in found if label is not None)
        fillers = [
            unsaid[k] or (drawn_long(heard.heard, k) and (label is None or sizes[label.group] > 1))
            for k, label in enumerate(found)
        ]
    else:
        fillers = [unsaid[k] or drawn_long(heard.heard, k) for k in range(len(items))]
        found = repeat_labels(items, fillers) if options.remove_repeats else _kept(fillers)
    # Fillers inside kept speech stay when they are not to be removed.
    shortest = options.min_filler if options.remove_fillers else math.inf
    parted = apart(spans, levels)
    labels = with_fillers(items, fillers, found, shortest, parted, several_sounds(spans, levels))
    draft = Draft(items, fillers, labels, levels, options, sounds, parted, unwritten, shortest)
    return draft, missing


def _kept(fillers: Sequence[bool]) -> list[Label | None]:
    return [None if filler else KEPT for filler in fillers]


def _sanitised(words: Sequence[Word], duration: float) -> list[Word]:
    out: list[Word] = []
    floor = 0.0
    for word in sorted(words, key=lambda w: (w.start, w.end)):
        start = min(max(word.start, floor), duration)
        end = min(max(word.end, start), duration)
        out.append(replace(word, start=start, end=end))
        floor = end
    return out


def _breaks(text: str) -> bool:
    """Whether the recogniser heard the speech break off after a word: the end of a sentence,
    or a comma ("after a, the | baby")."""
    return ends_sentence(text) or text.rstrip("\"'”’)]").endswith(",")
