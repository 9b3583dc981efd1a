"""A reviewer's choices over the decision: another take of a script line, or a span kept or
dropped. They are applied to the labels once every pass has run, in the order given, so the
segments are cut around them by the same rules as around any other kept speech (lead, tail,
pauses shortened, edges in pauses), and whatever they change is marked ``override``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from roughy.speech.decide.draft import Draft
from roughy.speech.decide.labels import Label
from roughy.speech.types import Override, OverrideError, SpanChoice, TakeChoice


def takes_of(labels: Sequence[Label], fillers: Sequence[bool]) -> dict[int, list[list[int]]]:
    """Each script line's takes (every attempt at it, false starts too), in time order: the
    items (fillers aside) of each."""
    by_group: dict[int, list[int]] = {}
    line_of: dict[int, int] = {}
    for k, label in enumerate(labels):
        if fillers[k] or label.line is None or label.group is None:
            continue
        by_group.setdefault(label.group, []).append(k)
        line_of[label.group] = label.line
    out: dict[int, list[list[int]]] = {}
    for group, members in sorted(by_group.items(), key=lambda pair: pair[1][0]):
        out.setdefault(line_of[group], []).append(members)
    return out


def take_numbers(labels: Sequence[Label], fillers: Sequence[bool]) -> dict[int, int]:
    """Group → its take of its line, 1-based in time order."""
    numbers: dict[int, int] = {}
    for takes in takes_of(labels, fillers).values():
        for n, members in enumerate(takes, 1):
            numbers[labels[members[0]].group or 0] = n
    return numbers


def apply(draft: Draft, overrides: Sequence[Override], lines: int) -> None:
    """``lines``: how many lines the script has."""
    for choice in overrides:
        if isinstance(choice, TakeChoice):
            _take(draft, choice, lines)
        else:
            _span(draft, choice)


def _take(draft: Draft, choice: TakeChoice, lines: int) -> None:
    if choice.line > lines:
        raise OverrideError(f"The script has no line {choice.line}; it has {lines}.")
    labels = draft.labels
    takes = takes_of(labels, draft.fillers).get(choice.line, [])
    if not takes:
        raise OverrideError(f"Script line {choice.line} is not said in the recording.")
    if not 1 <= choice.take <= len(takes):
        count = f"{len(takes)} take" + ("s" if len(takes) > 1 else "")
        raise OverrideError(
            f"Script line {choice.line} has {count} in the recording; there is no take "
            f"{choice.take}."
        )
    chosen = takes[choice.take - 1]
    first, last = chosen[0], chosen[-1]
    for members in takes:
        if members is chosen:
            continue
        for k in range(members[0], members[-1] + 1):
            if labels[k].keep and not first <= k <= last:
                labels[k] = replace(labels[k], keep=False, reason="override")
    kept = replace(labels[first], keep=True, reason="override", note=None)
    for k in range(first, last + 1):
        label = labels[k]
        if label.keep or (draft.fillers[k] and label.reason == "filler"):
            continue  # kept already, or a hesitation inside the take, cut as before
        labels[k] = kept


def _span(draft: Draft, choice: SpanChoice) -> None:
    for k, item in enumerate(draft.items):
        middle = (item.start + item.end) / 2
        label = draft.labels[k]
        if choice.start <= middle <= choice.end and label.keep != choice.keep:
            draft.labels[k] = replace(label, keep=choice.keep, reason="override")
