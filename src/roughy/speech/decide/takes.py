"""The decision with a script: each item labelled with the take, attempt or chatter it
belongs to. Every line's attempts are found (``script``), checked by ear where the caller
passes a ``listen`` or ``word_fits`` (``ear``), and one complete take per line is chosen so
that the chosen takes follow the script's order (``choose``). Pure.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Collection, Sequence
from itertools import pairwise

from roughy.speech.decide.choose import choose_takes
from roughy.speech.decide.draft import Unwritten
from roughy.speech.decide.ear import Heard, compare_takes, listen_to_takes
from roughy.speech.decide.labels import Label, ends_sentence
from roughy.speech.decide.levels import RUNS_ON, SOUNDLESS
from roughy.speech.decide.script import Attempt, compounds_apart, find_attempts
from roughy.speech.text import tokens
from roughy.speech.types import DropReason, Listen, Span, TakePolicy, Word, WordFits

# A word heard with less confidence than this, less than MURMUR_GAP after a take (or other
# speech) and before a pause, is a murmur of its ending (see ``keep_murmurs``).
MURMUR = 0.5
MURMUR_GAP = 0.2
MURMUR_SHORT = 0.12  # a word heard this short there is a murmur, however sure the recogniser
MURMUR_PAUSE = 0.5  # ... when a pause this long follows it


def script_labels(
    items: Sequence[Word],
    fillers: Sequence[bool],
    lines: Sequence[Sequence[str]],
    policy: TakePolicy,
    ears: tuple[Listen | None, WordFits | None],
    sounds: Sequence[Span],
) -> tuple[list[Label | None], list[int], Unwritten]:
    """Each item's label, the script lines never said, and where the chosen takes whose
    first or last words went unwritten begin or end."""
    per_item = [tokens(word.text) if not fillers[k] else [] for k, word in enumerate(items)]
    lines, per_item = compounds_apart(lines, per_item)
    spoken: list[str] = []
    owner: list[int] = []  # spoken token -> item
    for k, parts in enumerate(per_item):
        spoken.extend(parts)
        owner.extend([k] * len(parts))
    # Heard pauses (fillers not counted) tell a restart from its false start; pauses with the
    # unworded sounds in them not counted either tell the pieces of one take apart.
    unworded = [0.0] * len(items)  # item -> the length of the sounds in the pause before it
    starts = [word.start for word in items]
    for sound in sounds:
        if (at := bisect_left(starts, sound.start)) < len(items):
            unworded[at] += sound.end - sound.start
    pause_after = _pauses(items, fillers, owner, [0.0] * len(items))
    hesitant_after = _pauses(items, fillers, owner, unworded)
    ends = {
        p
        for p, k in enumerate(owner)
        if (p + 1 == len(owner) or owner[p + 1] != k) and ends_sentence(items[k].text)
    }
    attempts = find_attempts(lines, spoken, hesitant_after, ends)
    listen, word_fits = ears
    if listen is not None or word_fits is not None:
        heard = Heard(spoken, items, owner, pause_after, *sound_edges(items, sounds))
        if listen is not None:
            attempts = listen_to_takes(attempts, lines, heard, listen)
        if word_fits is not None:
            attempts = compare_takes(attempts, lines, heard, word_fits)
    attempts = [attempt for attempt in attempts if not attempt.unsure]
    chosen = choose_takes(attempts, policy, [(owner[a.first], owner[a.last]) for a in attempts])
    labels = _attempt_labels(attempts, chosen, owner, fillers)
    _mark_off_script(labels, fillers, group=len(attempts))
    said = {attempts[n].line for n in chosen}
    unwritten = Unwritten(
        starts={
            owner[attempts[n].first]: onset
            for n in chosen
            if (onset := attempts[n].heard_from) is not None
        },
        ends={
            owner[attempts[n].last]: offset
            for n in chosen
            if (offset := attempts[n].heard_to) is not None
        },
    )
    return labels, [i + 1 for i in range(len(lines)) if i not in said], unwritten


def _attempt_labels(
    attempts: Sequence[Attempt],
    chosen: Collection[int],
    owner: Sequence[int],
    fillers: Sequence[bool],
) -> list[Label | None]:
    """Each item's label by the attempt it is part of: the chosen takes kept, the others
    dropped as retakes (complete) or false starts; None where no attempt has it."""
    labels: list[Label | None] = [None] * len(fillers)
    # Unchosen attempts first, smallest first, so that larger ones and chosen takes win overlaps.
    order = sorted(range(len(attempts)), key=lambda n: (n in chosen, attempts[n].matched))
    for n in order:
        attempt = attempts[n]
        if n in chosen:
            label = Label(keep=True, line=attempt.line + 1, group=n)
        else:
            reason: DropReason = "retake" if attempt.complete else "false_start"
            label = Label(keep=False, reason=reason, line=attempt.line + 1, group=n)
        for k in range(owner[attempt.first], owner[attempt.last] + 1):
            if not fillers[k]:
                labels[k] = label
    return labels


def _pauses(
    items: Sequence[Word], fillers: Sequence[bool], owner: Sequence[int], unworded: Sequence[float]
) -> list[float]:
    """The silence after each spoken token (``owner``: its item) up to the next, hesitations
    between them not counted: "a darker, um, colour" is one sentence however long the "um".
    Fillers are hesitations, and so is ``unworded[k]`` of the pause before item k."""
    hesitated = [0.0]  # item -> hesitations up to and including it (spoken items add none)
    for k, word in enumerate(items):
        filler = word.end - word.start if fillers[k] else 0.0
        hesitated.append(hesitated[-1] + unworded[k] + filler)
    out = [
        max(0.0, items[b].start - items[a].end - (hesitated[b + 1] - hesitated[a + 1]))
        for a, b in pairwise(owner)
    ]
    out.append(0.0)
    return out


def sound_edges(items: Sequence[Word], sounds: Sequence[Span]) -> tuple[list[float], list[float]]:
    """Where the sound before each item begins and where the sound after it ends: the
    earliest unworded sound (``levels.unworded``) in the pause before it, else the item's own
    start; the end of one that follows it within ``RUNS_ON``, else its own end."""
    starts = [word.start for word in items]
    onsets, offsets = list(starts), [word.end for word in items]
    for sound in sounds:
        at = bisect_left(starts, sound.start)
        if at < len(onsets):
            onsets[at] = min(onsets[at], sound.start)
        if at > 0 and sound.start - items[at - 1].end <= RUNS_ON:
            offsets[at - 1] = max(offsets[at - 1], sound.end)
    return onsets, offsets


def keep_murmurs(
    labels: list[Label | None],
    items: Sequence[Word],
    fillers: Sequence[bool],
    moved_on: Sequence[bool],
) -> None:
    """A word the recogniser barely heard (``MURMUR``) right after a take, false start or
    chatter, and before a pause, is most often one it made up from that speech's soft ending
    (a breath, a trailing "ng"): it goes with it, kept or dropped, or a cut next to it would
    clip that ending or keep a piece of it. ``items`` as heard: refitting may have put a
    pause between the two. Words the aligner found no sound for (``SOUNDLESS``: the rest of a
    made-up "Thank you very much.") are no speech after it, nor are words barely heard (a
    hesitation written "there."). A kept take's only word stays its
    own, as does a sentence opener moved on to the words it opens (``moved_on``,
    ``levels.reattached``)."""
    said = [k for k in range(len(items)) if not fillers[k]]
    sounding = [
        k
        for k in said
        if items[k].end - items[k].start > SOUNDLESS and items[k].confidence >= MURMUR
    ]
    sizes = Counter(label.group for label in labels if label is not None)
    for n, k in enumerate(said[1:], 1):
        before, word, label = labels[said[n - 1]], items[k], labels[k]
        if before is None or label is None or label.group == before.group:
            continue
        if word.end - word.start <= SOUNDLESS or moved_on[k]:
            continue
        if label.keep and sizes[label.group] < 2:
            continue
        next_sound = bisect_left(sounding, k + 1)
        after = items[sounding[next_sound]].start if next_sound < len(sounding) else math.inf
        if (
            (word.confidence < MURMUR or word.end - word.start < MURMUR_SHORT)
            and len(tokens(word.text)) == 1
            and word.start - items[said[n - 1]].end < MURMUR_GAP
            and after - word.end >= MURMUR_PAUSE
        ):
            labels[k] = before


def _mark_off_script(labels: list[Label | None], fillers: Sequence[bool], group: int) -> None:
    """Unlabelled words are chatter; one run of it (fillers aside) is one group."""
    previous: Label | None = None
    for k, label in enumerate(labels):
        if fillers[k]:
            continue
        if label is None:
            if previous is None or previous.reason != "off_script":
                group += 1
            labels[k] = label = Label(keep=False, reason="off_script", group=group)
        previous = label
