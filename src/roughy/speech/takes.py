"""The cut decision: which takes, words, fillers and pauses to keep. Pure: words in, plan out.

With a script, every line's attempts are found (``roughy.speech.script``), checked by ear where
the caller passes a ``listen`` (``roughy.speech.ear``), and one complete take per line is chosen
so that the chosen takes follow the script's order (``roughy.speech.choose``).

Without a script, the speech is split into sentences, and a sentence whose beginning the next
sentence says again is a restart (``roughy.speech.sentences``). Either way, fillers and long
pauses inside kept speech go, and ``roughy.speech.snap`` puts every cut in a pause.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from roughy.speech.choose import choose_takes
from roughy.speech.ear import Heard, compare_takes, listen_to_takes
from roughy.speech.fillers import drawn_long, drawn_out, is_hesitation, with_fillers
from roughy.speech.labels import KEPT, Label, ends_sentence
from roughy.speech.script import compounds_apart, find_attempts, script_lines
from roughy.speech.sentences import sentence_labels
from roughy.speech.snap import (
    FILLER_BREAK,
    TOUCHING,
    Levels,
    apart,
    cut_segments,
    on_sound,
    reattached,
    refit,
    several_sounds,
    trimmed,
    unworded,
)
from roughy.speech.text import tokens
from roughy.speech.types import (
    CutOptions,
    CutPlan,
    Decision,
    DecisionKind,
    DropReason,
    Listen,
    Span,
    TakePolicy,
    Word,
    WordFits,
)

UNWORDED = "…"  # the text of a sound in a pause that no word covers (``snap.unworded``)
# A word heard with less confidence than this, less than MURMUR_GAP after a take (or other
# speech) and before a pause, is a murmur of its ending (see ``_keep_murmurs``).
MURMUR = 0.5
MURMUR_GAP = 0.2
MURMUR_SHORT = 0.12  # a word heard this short there is a murmur, however sure the recogniser
MURMUR_PAUSE = 0.5  # ... when a pause this long follows it
# A dropped word the aligner found no more sound for than this is a word the recogniser made
# up in a pause ("I'm sorry." after a take): no cut is placed around it.
SOUNDLESS = 0.05
# An unworded sound this soon after a word may be the rest of its take, unwritten; one further
# on is as often a hesitation after it.
RUNS_ON = 0.2
# An unworded sound inside a kept take is a hesitation when a breath this long parts it from
# the word before; one that follows the word more closely is the rest of what was said.
HESITATION_BREAK = 0.1


def decide(
    words: Sequence[Word],
    script: str | None,
    *,
    duration: float,
    levels: Levels | None = None,
    options: CutOptions = CutOptions(),
    listen: Listen | None = None,
    word_fits: WordFits | None = None,
) -> CutPlan:
    """What to keep of a recording, given its words (and fillers) and, optionally, its script.

    Script lines are numbered as ``script_lines`` returns them. A script with no words is no
    script. Overlapping words are clipped so that each starts where the previous one ends.
    ``listen`` (``roughy.speech.align.fit`` on the recording) checks takes the recogniser may
    have misheard against the script, and ``word_fits`` (``roughy.speech.align.word_fits``)
    compares a line's takes word by word (see ``roughy.speech.ear``).
    """
    lines = script_lines(script) if script is not None else []
    line_tokens = [tokens(line) for line in lines]
    vocabulary = {token for line in line_tokens for token in line}
    pairs = {pair for line in line_tokens for pair in pairwise(line)}
    heard = _sanitised(words, duration)
    opens = [k > 0 and ends_sentence(heard[k - 1].text) for k in range(len(heard))]
    fitted = trimmed(refit([(w.start, w.end) for w in heard], levels), levels)
    spans = reattached(fitted, opens)
    moved_on = [then > start for (then, _), (start, _) in zip(spans, fitted, strict=True)]
    items = [replace(w, start=a, end=b) for w, (a, b) in zip(heard, spans, strict=True)]
    # Hesitations as the takes are matched, and as they are cut (see ``fillers.drawn_long``).
    unsaid = [
        is_hesitation(word, vocabulary) or drawn_out(heard, k, pairs)
        for k, word in enumerate(items)
    ]
    sounds = unworded(spans, levels)
    missing: list[int] = []
    if lines:
        found, missing, unwritten = _script_labels(
            items, unsaid, line_tokens, options.policy, (listen, word_fits), sounds
        )
        _keep_murmurs(found, heard, unsaid, moved_on)
        # A take's only word stays its own, however long.
        sizes = Counter(label.group for label in found if label is not None)
        fillers = [
            unsaid[k] or (drawn_long(heard, k) and (label is None or sizes[label.group] > 1))
            for k, label in enumerate(found)
        ]
    else:
        fillers = [unsaid[k] or drawn_long(heard, k) for k in range(len(items))]
        found = sentence_labels(items, fillers) if options.remove_repeats else _kept(fillers)
        unwritten = _Unwritten({}, {})
    # Fillers inside kept speech stay when they are not to be removed.
    shortest = options.min_filler if options.remove_fillers else math.inf
    worded = several_sounds(spans, levels)
    parted = apart(spans, levels)
    labels = with_fillers(items, fillers, found, shortest, parted, worded)
    _keep_unwritten_starts(labels, items, fillers, unwritten.starts)
    if levels is not None:
        _keep_what_runs_on(labels, items, fillers, parted)
    if levels is not None:
        items, fillers, labels = _with_sounds(items, fillers, labels, sounds, shortest, unwritten)
    items = _refit_at_fillers(items, fillers, labels, levels)
    items = _on_sound(items, levels)
    items, sounding = _without_phantoms(items, labels)
    segments = cut_segments(
        [(items[k].start, items[k].end) for k in sounding],
        [labels[k].keep for k in sounding],
        duration,
        levels,
        options,
    )
    decisions = _decisions(items, fillers, labels, segments, duration)
    return CutPlan(tuple(segments), tuple(decisions), tuple(missing))


def _kept(fillers: Sequence[bool]) -> list[Label | None]:
    return [None if filler else KEPT for filler in fillers]


def _refit_at_fillers(
    items: Sequence[Word], fillers: Sequence[bool], labels: Sequence[Label], levels: Levels | None
) -> list[Word]:
    """Items refitted (``snap.refit``) with a shorter pause, ``FILLER_BREAK``, where a kept word
    and a dropped filler touch: a cut goes there."""
    where = [
        labels[k - 1].keep != labels[k].keep and (fillers[k - 1] or fillers[k])
        for k in range(1, len(items))
    ]
    spans = refit([(w.start, w.end) for w in items], levels, FILLER_BREAK, where)
    return [replace(w, start=a, end=b) for w, (a, b) in zip(items, spans, strict=True)]


def _on_sound(items: Sequence[Word], levels: Levels | None) -> list[Word]:
    """Items with their edges where their sound is (``snap.on_sound``): the pauses the cut
    keeps are measured on the sound, not on the recogniser's guess."""
    spans = on_sound([(w.start, w.end) for w in items], levels)
    return [replace(w, start=a, end=b) for w, (a, b) in zip(items, spans, strict=True)]


def _without_phantoms(
    items: Sequence[Word], labels: Sequence[Label]
) -> tuple[list[Word], list[int]]:
    """Dropped words the aligner found no sound for (``SOUNDLESS``) made zero-length, and the
    indices of the other items: only those bound the cuts."""
    out, sounding = list(items), []
    for k, (word, label) in enumerate(zip(items, labels, strict=True)):
        if label.keep or word.end - word.start > SOUNDLESS:
            sounding.append(k)
        else:
            out[k] = replace(word, end=word.start)
    return out, sounding


def _sound_edges(items: Sequence[Word], sounds: Sequence[Span]) -> tuple[list[float], list[float]]:
    """Where the sound before each item begins and where the sound after it ends: the
    earliest unworded sound (``snap.unworded``) in the pause before it, else the item's own
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


def _sanitised(words: Sequence[Word], duration: float) -> list[Word]:
    out: list[Word] = []
    floor = 0.0
    for word in sorted(words, key=lambda w: (w.start, w.end)):
        start = min(max(word.start, floor), duration)
        end = min(max(word.end, start), duration)
        out.append(replace(word, start=start, end=end))
        floor = end
    return out


# --- with a script --------------------------------------------------------------------------


def _script_labels(
    items: Sequence[Word],
    fillers: Sequence[bool],
    lines: Sequence[Sequence[str]],
    policy: TakePolicy,
    ears: tuple[Listen | None, WordFits | None],
    sounds: Sequence[Span],
) -> tuple[list[Label | None], list[int], _Unwritten]:
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
        heard = Heard(spoken, items, owner, pause_after, *_sound_edges(items, sounds))
        if listen is not None:
            attempts = listen_to_takes(attempts, lines, heard, listen)
        if word_fits is not None:
            attempts = compare_takes(attempts, lines, heard, word_fits)
    attempts = [attempt for attempt in attempts if not attempt.unsure]
    chosen = choose_takes(attempts, policy, [(owner[a.first], owner[a.last]) for a in attempts])
    labels: list[Label | None] = [None] * len(items)
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
    _mark_off_script(labels, fillers, group=len(attempts))
    said = {attempts[n].line for n in chosen}
    unwritten = _Unwritten(
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


@dataclass(frozen=True)
class _Unwritten:
    """Where chosen takes were heard to begin before their first heard item (``starts``, by
    that item) and to end after their last (``ends``, by that item): the recogniser left out
    their first or last words."""

    starts: dict[int, float]
    ends: dict[int, float]


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


def _keep_unwritten_starts(
    labels: list[Label], items: Sequence[Word], fillers: Sequence[bool], kept_from: dict[int, float]
) -> None:
    """Fillers from where a take was heard to begin (``kept_from``: its first words went
    unwritten) that run on into its first heard item go with the take: the aligner put its
    "filler" on the words the recogniser left out. One parted from the take by a pause is a
    hesitation before it."""
    for at, onset in kept_from.items():
        k = at - 1
        while k >= 0 and fillers[k] and items[k].start >= onset:
            if items[k + 1].start - items[k].end > TOUCHING:
                break
            labels[k] = labels[at]
            k -= 1


def _keep_what_runs_on(
    labels: list[Label], items: Sequence[Word], fillers: Sequence[bool], parted: Sequence[bool]
) -> None:
    """Dropped words that run on into a kept word, with no break in the levels between them
    (``snap.apart``) and no more than ``RUNS_ON`` of pause, go with it: they are one stretch
    of sound, and a cut between them would clip speech. Most often the recogniser misheard
    a take's first word and it was dropped with the attempt before, or made up a word from
    the sound of a take's last one. When unsure, keep. Words the aligner found no sound for
    (``SOUNDLESS``) are not joined: they were made up in a pause."""
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


def _keep_murmurs(
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
    ``snap.reattached``)."""
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


# --- decisions ------------------------------------------------------------------------------


def _with_sounds(
    items: Sequence[Word],
    fillers: Sequence[bool],
    labels: Sequence[Label],
    sounds: Sequence[Span],
    shortest: float,
    unwritten: _Unwritten,
) -> tuple[list[Word], list[bool], list[Label]]:
    """The items with the unworded sounds (``snap.unworded``) inside kept speech added as
    dropped fillers: a hesitation between two kept words that nobody wrote down, parted from
    the word before by ``HESITATION_BREAK``. Sounds from where a take was heard to begin to
    its first heard item, or from its last heard item to where it was heard to end
    (``unwritten``), are added as kept words of the take. Elsewhere a sound is left to the
    cuts (``snap.cut_segments`` moves a cut out of it): at a take's edge, or close after a
    kept word, it is as often a word the recogniser did not hear."""
    starts = [word.start for word in items]
    before: dict[int, list[tuple[Word, bool, Label]]] = defaultdict(list)  # by the next item
    for sound in sounds:
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
        if inside and parted and sound.end - sound.start >= shortest:
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
        kinds.append(fillers[k])
        marks.append(labels[k])
    return out, kinds, marks


def _decisions(
    items: Sequence[Word],
    fillers: Sequence[bool],
    labels: Sequence[Label],
    segments: Sequence[Span],
    duration: float,
) -> list[Decision]:
    out: list[Decision] = []
    ends = [segment.end for segment in segments]
    for gap in range(len(items) + 1):
        before = labels[gap - 1] if gap > 0 else None
        after = labels[gap] if gap < len(items) else None
        low = items[gap - 1].end if gap > 0 else 0.0
        high = items[gap].start if gap < len(items) else duration
        out.extend(_pause(low, high, before, after, segments, ends))
        if gap < len(items):
            word, label = items[gap], labels[gap]
            kind: DecisionKind = "filler" if fillers[gap] else "word"
            out.append(
                Decision(
                    kind,
                    word.start,
                    word.end,
                    label.keep,
                    word.text,
                    label.reason,
                    label.line,
                    label.note,
                )
            )
    return out


def _pause(
    low: float,
    high: float,
    before: Label | None,
    after: Label | None,
    segments: Sequence[Span],
    ends: Sequence[float],
) -> list[Decision]:
    """The pause [low, high] split where segment edges fall in it: kept and dropped parts."""
    if high <= low:
        return []
    near: list[Span] = []
    for segment in segments[bisect_left(ends, low) :]:
        if segment.start > high:
            break
        near.append(segment)
    cuts = sorted({low, high} | {t for s in near for t in (s.start, s.end) if low < t < high})
    out: list[Decision] = []
    for start, end in pairwise(cuts):
        middle = (start + end) / 2
        if any(s.start <= middle <= s.end for s in near):
            neighbours = [
                label
                for label, touches in ((before, start == low), (after, end == high))
                if touches and label is not None and label.keep
            ]
            lines = {label.line for label in neighbours}
            line = lines.pop() if len(lines) == 1 else None
            out.append(Decision("pause", start, end, True, line=line))
        elif (
            before is not None
            and after is not None
            and not before.keep
            and before.group is not None
            and before.group == after.group
        ):
            out.append(Decision("pause", start, end, False, reason=before.reason, line=before.line))
        else:
            out.append(Decision("pause", start, end, False, reason="silence"))
    return out
