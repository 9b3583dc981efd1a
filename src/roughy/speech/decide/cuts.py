"""Where the cuts go: segments to keep, every edge in a pause and on a quiet frame.

Items are the words and fillers on the timeline, time-ordered and not overlapping. Each gap
between two items (and before the first, after the last) gets at most one segment edge of each
kind, always inside the gap, so no cut ever falls inside a word, kept or dropped. An edge goes
to the quietest frame near where it is due (``snap``), and out of any sound the recogniser
heard no word in (``_outward``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from roughy.speech.decide.levels import Levels, loud_level
from roughy.speech.types import FRAME_SECONDS, CutOptions, Span

QUIET_RUN = 0.08  # quiet this long ends the sound a cut moves out of
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
    loud = loud_level(levels) if levels is not None and len(levels) else None
    for gap in range(len(items) + 1):
        edges = _gap_edges(items, keep, gap, duration, (levels, loud), options)
        if edges is None:
            continue
        end, start = edges
        if not math.isnan(end) and opened is not None:
            if end > opened:
                segments.append(Span(opened, end))
            opened = None
        if not math.isnan(start):
            opened = start
    return _merged(segments)


def _gap_edges(
    items: Sequence[tuple[float, float]],
    keep: Sequence[bool],
    gap: int,
    duration: float,
    sound: tuple[Levels | None, float | None],
    options: CutOptions,
) -> tuple[float, float] | None:
    """Where in the pause before item ``gap`` the segment before it ends and the one after
    it starts (NaN: no such segment edge there); None when no edge goes there. ``sound``:
    the levels and their ``loud_level``."""
    levels, loud = sound
    left = gap > 0 and keep[gap - 1]
    right = gap < len(items) and keep[gap]
    low = items[gap - 1][1] if gap > 0 else 0.0
    high = items[gap][0] if gap < len(items) else duration
    room = high - low

    def edge(at: float, later: float = 0.0) -> float:
        return snap(at, low, high, levels, options.snap_window, later)

    if left and right:
        if room <= options.max_pause:
            return None
        # The pause kept goes to a soft ending first, the lead before the next word after.
        end = edge(low + options.tail, max(0.0, options.max_pause - options.lead - options.tail))
        start = edge(high - max(options.lead, options.max_pause - (end - low)))
        if start - end < FRAME_SECONDS:
            return None  # snapping closed the gap: keep the pause whole
    elif left:
        tail = min(options.tail, room if gap == len(items) else room / 2)
        reach = min(TAIL_REACH, room if gap == len(items) else room / 2) - tail
        end, start = edge(low + tail, max(0.0, reach)), math.nan
    elif right:
        end, start = math.nan, edge(high - min(options.lead, room if gap == 0 else room / 2))
    else:
        return None
    if levels is not None and loud is not None:
        if right:
            start = _outward(start, low, levels, loud, -1)
        if left:
            end = _outward(end, high, levels, loud, 1)
    return end, start


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


def _merged(segments: list[Span]) -> list[Span]:
    out: list[Span] = []
    for segment in segments:
        if out and segment.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, segment.end))
        else:
            out.append(segment)
    return out
