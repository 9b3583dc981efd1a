"""The plan's decisions: every word, filler and pause of the recording, kept or dropped and
why, with the pauses split where the segments' edges fall in them."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from itertools import pairwise

from roughy.speech.decide.labels import Label
from roughy.speech.types import Decision, DecisionKind, Span, Word


def decisions(
    items: Sequence[Word],
    fillers: Sequence[bool],
    labels: Sequence[Label],
    segments: Sequence[Span],
    duration: float,
    takes: Mapping[int, int] | None = None,
) -> list[Decision]:
    """``takes``: a take's group → its number among its line's takes."""
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
                    (takes or {}).get(label.group) if label.group is not None else None,
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
