"""What the levels (RMS per 10 ms) say of the words: where their sound begins and ends, where
the pause between two of them lies, and what sounds no word covers.

``refit`` moves the edges of two touching words to the pause the aligner put inside one of
them, ``trimmed`` and ``on_sound`` move edges off silence, ``reattached`` gives a sentence's
first word back to its sentence, ``apart`` tells which neighbours a breath separates,
``several_sounds`` which spans hold more than one sound, and ``unworded`` finds the sounds in
the pauses that nobody wrote down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from roughy.speech.types import FRAME_SECONDS, Span

Levels = NDArray[np.floating[Any]]

# Sound this far from the background towards the speech level is speech.
LOUD = 0.1
# A dropped word the aligner found no more sound for than this is a word the recogniser made
# up in a pause ("I'm sorry." after a take): no cut is placed around it.
SOUNDLESS = 0.05
# An unworded sound this soon after a word may be the rest of its take, unwritten; one further
# on is as often a hesitation after it.
RUNS_ON = 0.2
SILENT_RUN = 0.3  # no word holds a silence this long at its edge (see ``trimmed``)
EDGE_RUN = 0.02  # quiet this long at a word's edge is not its sound (see ``on_sound``)
# Two words that touch with a quiet run this long inside one of them, near where they meet,
# were misplaced by the aligner: the pause lies there (see ``refit``). Longer than the closure
# of a stop consonant.
PAUSE_RUN = 0.12
TOUCHING = 0.05
# Where a cut will go between a kept word and a dropped filler that touch, a shorter quiet run
# is taken for the pause between them (a filler is no stop consonant).
FILLER_BREAK = 0.08
# A sentence's first word with a pause this long after it, glued to the sentence before, was
# put on that sentence's fading end (see ``reattached``).
LONELY = 0.2
SEEK = 0.3  # how far from where two words meet the pause between them is looked for
BREAK = 0.05  # quiet this long between two sounds (see ``apart``) parts them
BREAK_REACH = 0.04  # a break this near where they meet: further in, it is a stop's closure
SYLLABLE = 0.1  # a loud run this long is a sound of its own (see ``several_sounds``)
SOUND = 0.12  # an unworded sound at least this long is a hesitation (see ``unworded``) ...
SOUND_LONGEST = 1.0  # ... and at most this long, in a pause of at most SOUND_GAP (longer
SOUND_GAP = 1.5  # ones hold the words of a take the recogniser did not hear, more often)


def refit(
    spans: Sequence[tuple[float, float]],
    levels: Levels | None,
    shortest: float = PAUSE_RUN,
    where: Sequence[bool] | None = None,
) -> list[tuple[float, float]]:
    """Word edges moved to the pause the levels show between two words that touch.

    The aligner at times ends a word early and starts the next one in its tail (or the other
    way round): the two touch, and the pause between them lies inside one. A cut between them
    would clip a word. Where a quiet run of ``shortest`` reaches to within ``SEEK`` of where
    they meet, the first word now ends where it begins and the next starts where it ends (each
    keeps a frame of itself at least); the nearest such run wins. ``where[k - 1]``: whether
    to look between words k - 1 and k (everywhere when None).
    """
    out = list(spans)
    if levels is None or len(levels) == 0:
        return out
    quiet = np.asarray(levels) < loud_level(levels)
    for k in range(1, len(out)):
        (start, end), (then, until) = out[k - 1], out[k]
        if then - end >= TOUCHING or (where is not None and not where[k - 1]):
            continue
        low = max(min(start + FRAME_SECONDS, end), end - SEEK)
        high = min(max(until - FRAME_SECONDS, then), then + SEEK)
        run = _quiet_run(quiet, low, high, (end + then) / 2, shortest)
        if run is not None:
            out[k - 1] = (start, max(start, run[0]))
            out[k] = (min(run[1], until), until)
    return out


def trimmed(
    spans: Sequence[tuple[float, float]], levels: Levels | None
) -> list[tuple[float, float]]:
    """Word edges moved off a silence of ``SILENT_RUN`` or more at the word's start or end.

    No word holds that long a silence at its edge: the aligner stretched it over a pause
    ("ever" from the chatter before a take, across the silence, to where the take begins).
    A word silent throughout ends up empty, at its end."""
    if levels is None or len(levels) == 0:
        return list(spans)
    quiet = np.asarray(levels) < loud_level(levels)
    longest = round(SILENT_RUN / FRAME_SECONDS)
    out = []
    for start, end in spans:
        first, last = round(start / FRAME_SECONDS), round(end / FRAME_SECONDS)  # frames [,)
        lead = _run_length(quiet[first:last])
        if lead >= longest:
            start = min(end, (first + lead) * FRAME_SECONDS)
        out.append((start, end))
    return out


def on_sound(
    spans: Sequence[tuple[float, float]], levels: Levels | None, kept: Sequence[bool]
) -> list[tuple[float, float]]:
    """Word edges moved in to where the word's sound is: off quiet of ``EDGE_RUN`` or more at
    its start or its end (a word keeps one frame at least).

    The recogniser's and the aligner's edges run on into the pauses around a word; pauses
    measured between them come out short, and a kept pause longer than the cut asks. The
    cut's lead and tail (``CutOptions``) go around the sound, so a soft ending under the
    loudness bar is still kept.

    A word with no sound where it was put, within ``SEEK`` of a neighbour kept (``kept``) or
    dropped as it is, was said inside that neighbour's sound (the aligner gave a sentence's
    first word the silence before it, or its last word the silence after): it moves, empty,
    to that neighbour's nearer edge.
    """
    if levels is None or len(levels) == 0:
        return list(spans)
    quiet = np.asarray(levels) < loud_level(levels)
    shortest = round(EDGE_RUN / FRAME_SECONDS)
    out = []
    silent = []
    for start, end in spans:
        first, last = math.ceil(start / FRAME_SECONDS - 1e-9), int(end / FRAME_SECONDS + 1e-9)
        frames = quiet[first : max(last, first + 1)]
        silent.append(len(frames) > 0 and bool(frames.all()))
        if last - first <= 1 or frames.all():
            out.append((start, end))
            continue
        lead, tail = _run_length(frames), _run_length(frames[::-1])
        if lead >= shortest:
            start = (first + lead) * FRAME_SECONDS
        if tail >= shortest:
            end = (last - tail) * FRAME_SECONDS
        out.append((start, end))
    return _onto_neighbours(out, silent, kept)


def _onto_neighbours(
    spans: list[tuple[float, float]], silent: Sequence[bool], kept: Sequence[bool]
) -> list[tuple[float, float]]:
    """Silent spans moved, empty, to the nearer edge of a sounding neighbour within ``SEEK``
    that is kept or dropped as they are."""
    out = list(spans)

    def alike(k: int, n: int) -> bool:
        return 0 <= n < len(spans) and not silent[n] and kept[n] == kept[k]

    for k, (start, end) in enumerate(spans):
        if not silent[k]:
            continue
        before = start - out[k - 1][1] if alike(k, k - 1) else math.inf
        after = spans[k + 1][0] - end if alike(k, k + 1) else math.inf
        if min(before, after) > SEEK:
            continue
        at = out[k - 1][1] if before <= after else spans[k + 1][0]
        out[k] = (at, at)
    return out


def _run_length(flags: NDArray[np.bool_]) -> int:
    """How many leading entries are true."""
    falses = np.flatnonzero(~flags)
    return int(falses[0]) if len(falses) else len(flags)


def reattached(
    spans: Sequence[tuple[float, float]], opens: Sequence[bool]
) -> list[tuple[float, float]]:
    """Sentence openers the aligner put on the tail of the sentence before, moved on to the
    words they open.

    ``opens[k]``: word ``k`` starts a sentence as the recogniser wrote it. Such a word that
    touches the last word before it and has a pause of ``LONELY`` or more after it lies on
    that word's fading end ("wrong. The | quarterly"): the sound is the earlier word's, which
    now ends where the opener did; the opener, as long as before, ends where the next word
    starts."""
    out = list(spans)
    for k in range(1, len(out) - 1):
        (start, end), (then, until), (after, _) = out[k - 1], out[k], out[k + 1]
        if opens[k] and then - end < TOUCHING and after - until >= LONELY:
            out[k - 1] = (start, until)
            out[k] = (max(until, after - (until - then)), after)
    return out


def apart(spans: Sequence[tuple[float, float]], levels: Levels | None) -> list[bool]:
    """For each two neighbouring words, whether the levels show a breath between them: a
    quiet run of ``BREAK`` within ``BREAK_REACH`` of where they meet, not past either middle.
    False throughout without levels."""
    if levels is None or len(levels) == 0:
        return [False] * max(0, len(spans) - 1)
    quiet = np.asarray(levels) < loud_level(levels)
    out = []
    for (start, end), (then, until) in pairwise(spans):
        low = max((start + end) / 2, end - BREAK_REACH)
        high = min((then + until) / 2, then + BREAK_REACH)
        out.append(_quiet_run(quiet, low, high, (end + then) / 2, BREAK) is not None)
    return out


def several_sounds(spans: Sequence[tuple[float, float]], levels: Levels | None) -> list[bool]:
    """For each span, whether the levels show two sounds or more in it: loud runs of
    ``SYLLABLE`` with a break of ``BREAK`` between them. A hesitation is one sound; words are
    several. False throughout without levels."""
    if levels is None or len(levels) == 0:
        return [False] * len(spans)
    loud = np.asarray(levels) >= loud_level(levels)
    shortest, gap = round(SYLLABLE / FRAME_SECONDS), round(BREAK / FRAME_SECONDS)
    out = []
    for start, end in spans:
        runs: list[list[int]] = []
        for first, stop in _runs(loud[round(start / FRAME_SECONDS) : round(end / FRAME_SECONDS)]):
            if runs and first - runs[-1][1] < gap:
                runs[-1][1] = stop  # a dip too short to part two sounds
            else:
                runs.append([first, stop])
        out.append(sum(stop - first >= shortest for first, stop in runs) >= 2)
    return out


def unworded(spans: Sequence[tuple[float, float]], levels: Levels | None) -> list[Span]:
    """Sounds in the pauses between words that no word covers: loud runs of ``SOUND`` to
    ``SOUND_LONGEST``, with a break of ``BREAK`` between them and either word, in a pause of
    at most ``SOUND_GAP``. A hesitation neither the recogniser nor the aligner wrote down
    sounds like that."""
    if levels is None or len(levels) == 0:
        return []
    loud = np.asarray(levels) >= loud_level(levels)
    found: list[Span] = []
    for (_, end), (then, _) in pairwise(spans):
        first = math.ceil((end + BREAK) / FRAME_SECONDS)
        last = math.floor((then - BREAK) / FRAME_SECONDS)  # exclusive
        if last - first < round(SOUND / FRAME_SECONDS) or then - end > SOUND_GAP:
            continue
        for start, stop in _runs(loud[first:last]):
            if round(SOUND / FRAME_SECONDS) <= stop - start <= round(SOUND_LONGEST / FRAME_SECONDS):
                found.append(
                    Span(float(first + start) * FRAME_SECONDS, float(first + stop) * FRAME_SECONDS)
                )
    return found


def _runs(flags: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """The runs of true entries, as [start, stop) indices."""
    window = np.concatenate(([False], flags, [False]))
    changes = np.flatnonzero(window[1:] != window[:-1])
    return [(int(a), int(b)) for a, b in zip(changes[::2], changes[1::2], strict=True)]


def _quiet_run(
    quiet: NDArray[np.bool_], low: float, high: float, near: float, shortest: float
) -> tuple[float, float] | None:
    """The part within [low, high] of the quiet run nearest ``near`` that reaches into it and
    lasts ``shortest`` (counted whole: it may go on past either bound), if any."""
    first = max(0, math.floor((low - SEEK) / FRAME_SECONDS))
    last = min(len(quiet), math.ceil((high + SEEK) / FRAME_SECONDS))  # exclusive
    best: tuple[float, float] | None = None
    for start, end in _runs(quiet[first:last]):
        if end - start < round(shortest / FRAME_SECONDS):
            continue
        run = (max(low, (first + start) * FRAME_SECONDS), min(high, (first + end) * FRAME_SECONDS))
        if run[1] - run[0] < FRAME_SECONDS:
            continue
        distance = max(run[0] - near, near - run[1], 0.0)
        if best is None or distance < max(best[0] - near, near - best[1], 0.0):
            best = run
    return best


def loud_level(levels: Levels) -> float:
    """``LOUD`` of the way, in level, from the recording's background to its speech."""
    floor, speech = np.percentile(levels, [10, 90])
    return float(floor + LOUD * (speech - floor))
