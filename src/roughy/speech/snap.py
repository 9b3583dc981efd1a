"""Where the cuts go: segments to keep, every edge in a pause and on a quiet frame.

Items are the words and fillers on the timeline, time-ordered and not overlapping. Each gap
between two items (and before the first, after the last) gets at most one segment edge of each
kind, always inside the gap, so no cut ever falls inside a word, kept or dropped.

The levels (RMS per 10 ms) correct the items first: ``refit`` moves the edges of two touching
words to the pause the aligner put inside one of them, and ``apart`` tells which neighbours a
breath separates (a filler with a breath before a word is not part of that word).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from roughy.speech.types import FRAME_SECONDS, CutOptions, Span

Levels = NDArray[np.floating[Any]]

# Sound this far from the background towards the speech level is speech (see ``_outward``).
LOUD = 0.1
QUIET_RUN = 0.08  # quiet this long ends the sound a cut moves out of
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
# A take's end may be cut up to this long after its last word, on a frame QUIETER than the
# quietest around the usual tail: a soft ending ("moving", "himself") fades out for longer.
TAIL_REACH = 0.35
QUIETER = 0.5


def snap(
    at: float, low: float, high: float, levels: Levels | None, window: float, later: float = 0.0
) -> float:
    """The centre of the quietest frame within ``at ± window``, staying in [low, high].

    Ties go to the frame nearest ``at``; with no levels, or no frame centre in range, ``at``.
    Up to ``later`` past the window, a frame ``QUIETER`` than that one is taken instead: the
    sound there is still fading out.
    """
    if levels is None or len(levels) == 0:
        return at
    best = _quietest(at, max(low, at - window), min(high, at + window), levels)
    if best is None:
        return at
    if later > 0:
        beyond = _quietest(at, at + window, min(high, at + window + later), levels)
        if beyond is not None and beyond[1] < QUIETER * best[1]:
            best = beyond
    return min(max(best[0], low), high)


def _quietest(at: float, lo: float, hi: float, levels: Levels) -> tuple[float, float] | None:
    """The centre and level of the quietest frame centred in [lo, hi], ties nearest ``at``."""
    first = max(0, math.ceil(lo / FRAME_SECONDS - 0.5 - 1e-9))
    last = min(len(levels) - 1, math.floor(hi / FRAME_SECONDS - 0.5 + 1e-9))
    if first > last:
        return None
    frames = np.arange(first, last + 1)
    centres = (frames + 0.5) * FRAME_SECONDS
    quiet = np.asarray(levels[first : last + 1], dtype=np.float64)
    pick = np.lexsort((np.abs(centres - at), quiet))[0]
    return float(centres[pick]), float(quiet[pick])


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
    quiet = np.asarray(levels) < _loud_level(levels)
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
    quiet = np.asarray(levels) < _loud_level(levels)
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
    spans: Sequence[tuple[float, float]], levels: Levels | None
) -> list[tuple[float, float]]:
    """Word edges moved in to where the word's sound is: off quiet of ``EDGE_RUN`` or more at
    its start or its end (a word keeps one frame at least).

    The recogniser's and the aligner's edges run on into the pauses around a word; pauses
    measured between them come out short, and a kept pause longer than the cut asks. The
    cut's lead and tail (``CutOptions``) go around the sound, so a soft ending under the
    loudness bar is still kept."""
    if levels is None or len(levels) == 0:
        return list(spans)
    quiet = np.asarray(levels) < _loud_level(levels)
    shortest = round(EDGE_RUN / FRAME_SECONDS)
    out = []
    for start, end in spans:
        first, last = math.ceil(start / FRAME_SECONDS - 1e-9), int(end / FRAME_SECONDS + 1e-9)
        frames = quiet[first:last]
        if last - first <= 1 or frames.all():
            out.append((start, end))
            continue
        lead, tail = _run_length(frames), _run_length(frames[::-1])
        if lead >= shortest:
            start = (first + lead) * FRAME_SECONDS
        if tail >= shortest:
            end = (last - tail) * FRAME_SECONDS
        out.append((start, end))
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
    quiet = np.asarray(levels) < _loud_level(levels)
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
    loud = np.asarray(levels) >= _loud_level(levels)
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
    loud = np.asarray(levels) >= _loud_level(levels)
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


def cut_segments(
    items: Sequence[tuple[float, float]],
    keep: Sequence[bool],
    duration: float,
    levels: Levels | None,
    options: CutOptions,
) -> list[Span]:
    """The spans to keep: kept items with lead and tail, long pauses between them shortened."""
    segments: list[Span] = []
    opened: float | None = None
    loud = _loud_level(levels) if levels is not None and len(levels) else None

    def edge(at: float, low: float, high: float, later: float = 0.0) -> float:
        return snap(at, low, high, levels, options.snap_window, later)

    for gap in range(len(items) + 1):
        left = gap > 0 and keep[gap - 1]
        right = gap < len(items) and keep[gap]
        low = items[gap - 1][1] if gap > 0 else 0.0
        high = items[gap][0] if gap < len(items) else duration
        room = high - low
        if left and right:
            if room <= options.max_pause:
                continue
            # The pause kept goes to a soft ending first, the lead before the next word after.
            end = edge(
                low + options.tail,
                low,
                high,
                max(0.0, options.max_pause - options.lead - options.tail),
            )
            start = edge(high - max(options.lead, options.max_pause - (end - low)), low, high)
            if start - end < FRAME_SECONDS:
                continue  # snapping closed the gap: keep the pause whole
        elif left:
            tail = min(options.tail, room if gap == len(items) else room / 2)
            reach = min(TAIL_REACH, room if gap == len(items) else room / 2) - tail
            end = edge(low + tail, low, high, max(0.0, reach))
            start = math.nan
        elif right:
            start = edge(high - min(options.lead, room if gap == 0 else room / 2), low, high)
            end = math.nan
        else:
            continue
        if loud is not None and levels is not None:
            if right:
                start = _outward(start, low, levels, loud, -1)
            if left:
                end = _outward(end, high, levels, loud, 1)
        if left and opened is not None:
            if end > opened:
                segments.append(Span(opened, end))
            opened = None
        if right:
            opened = start
    return _merged(segments)


def _outward(at: float, bound: float, levels: Levels, loud: float, step: int) -> float:
    """A cut moved out of sound the recogniser heard no word in, towards ``bound``.

    A pause that is loud at the cut holds speech the words do not show (a word the recogniser
    dropped): the cut moves on through it, across dips of at most ``QUIET_RUN``, to where the
    pause falls quiet, never past ``bound`` (the next word's edge). Sound that runs on into
    the next word is that word's own (its edge is early): the cut stays where it was.
    """
    frame = int(at / FRAME_SECONDS) if step > 0 else int(at / FRAME_SECONDS) - 1
    edge, quiet = at, 0
    while 0 <= frame < len(levels) and quiet * FRAME_SECONDS < QUIET_RUN:
        here = (frame + (1 if step > 0 else 0)) * FRAME_SECONDS
        if (here - bound) * step > 0:
            return at if quiet == 0 else edge
        if levels[frame] >= loud:
            edge, quiet = here, 0
        else:
            quiet += 1
        frame += step
    return edge


def _loud_level(levels: Levels) -> float:
    """``LOUD`` of the way, in level, from the recording's background to its speech."""
    floor, speech = np.percentile(levels, [10, 90])
    return float(floor + LOUD * (speech - floor))


def _merged(segments: list[Span]) -> list[Span]:
    out: list[Span] = []
    for segment in segments:
        if out and segment.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, segment.end))
        else:
            out.append(segment)
    return out
