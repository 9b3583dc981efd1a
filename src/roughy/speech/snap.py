"""Where the cuts go: segments to keep, every edge in a pause and on a quiet frame.

Items are the words and fillers on the timeline, time-ordered and not overlapping. Each gap
between two items (and before the first, after the last) gets at most one segment edge of each
kind, always inside the gap, so no cut ever falls inside a word, kept or dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from roughy.speech.types import FRAME_SECONDS, CutOptions, Span

Levels = NDArray[np.floating[Any]]


def snap(at: float, low: float, high: float, levels: Levels | None, window: float) -> float:
    """The centre of the quietest frame within ``at ± window``, staying in [low, high].

    Ties go to the frame nearest ``at``; with no levels, or no frame centre in range, ``at``.
    """
    if levels is None or len(levels) == 0:
        return at
    lo, hi = max(low, at - window), min(high, at + window)
    first = max(0, math.ceil(lo / FRAME_SECONDS - 0.5 - 1e-9))
    last = min(len(levels) - 1, math.floor(hi / FRAME_SECONDS - 0.5 + 1e-9))
    if first > last:
        return at
    frames = np.arange(first, last + 1)
    centres = (frames + 0.5) * FRAME_SECONDS
    quiet = np.asarray(levels[first : last + 1], dtype=np.float64)
    order = np.lexsort((np.abs(centres - at), quiet))
    return min(max(float(centres[order[0]]), low), high)


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

    def edge(at: float, low: float, high: float) -> float:
        return snap(at, low, high, levels, options.snap_window)

    for gap in range(len(items) + 1):
        left = gap > 0 and keep[gap - 1]
        right = gap < len(items) and keep[gap]
        low = items[gap - 1][1] if gap > 0 else 0.0
        high = items[gap][0] if gap < len(items) else duration
        room = high - low
        if left and right:
            if room <= options.max_pause:
                continue
            end = edge(low + options.max_pause / 2, low, high)
            start = edge(high - options.max_pause / 2, low, high)
            if start - end < FRAME_SECONDS:
                continue  # snapping closed the gap: keep the pause whole
        elif left:
            end = edge(low + min(options.tail, room if gap == len(items) else room / 2), low, high)
            start = math.nan
        elif right:
            start = edge(high - min(options.lead, room if gap == 0 else room / 2), low, high)
            end = math.nan
        else:
            continue
        if left and opened is not None:
            if end > opened:
                segments.append(Span(opened, end))
            opened = None
        if right:
            opened = start
    return segments
