"""Which take of each script line to keep: one complete take per line, the chosen takes in the
script's order in time. A DP over lines first covers as many lines as it can, then by policy
prefers the *last* clean take or the *best* (highest match score, ties going to the later take).
A take is clean when the ear says it was read right (``roughy.speech.decide.ear``) or, where the ear
cannot tell, it has no more errors than the line's best take, give or take ``CLEAN_MARGIN``: the
recogniser's own slips ("making" for "baking") cost less than a misread word and recur alike in
every take of a line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from roughy.speech.decide.ear import verdict
from roughy.speech.decide.script import Attempt
from roughy.speech.types import TakePolicy

# A take counts as read right when it has at most this many errors more than the line's best
# take: the recogniser's slips differ from take to take, and one slip that looks like the
# script's word costs at most 0.5 (``script.substitution_cost``); a misread word costs one.
CLEAN_MARGIN = 0.5
_RADIX = 1 << 32  # packs a DP weight's parts into one int, most significant first


def choose_takes(
    attempts: Sequence[Attempt], policy: TakePolicy, spans: Sequence[tuple[int, int]]
) -> set[int]:
    """Indexes of the complete attempts kept, at most one per line, in script order in time.

    ``spans[n]`` is attempt n's first and last item: a line's take ends before the next line's
    begins. Longest increasing chain by weight over lines, with a prefix-maximum tree over items.
    """
    by_line: dict[int, list[int]] = defaultdict(list)
    for n, attempt in enumerate(attempts):
        if attempt.complete:
            by_line[attempt.line].append(n)
    size = max((last for _, last in spans), default=0) + 1
    tree = _PrefixMax(size)
    back: dict[int, int] = {}
    best: tuple[int, int] = (0, -1)
    for line in sorted(by_line):
        ranked = _ranked(attempts, by_line[line])
        fewest = min(attempts[n].errors for n in by_line[line])
        scored = []
        for n in by_line[line]:
            first, last = spans[n]
            total, previous = tree.query(first - 1)
            back[n] = previous
            clean = _clean(attempts[n], fewest)
            scored.append((total + _weight(attempts[n], clean, ranked[n], policy), n, last))
        for total, n, last in scored:
            tree.update(last, (total, n))
            best = max(best, (total, n))
    chosen: set[int] = set()
    n = best[1]
    while n >= 0:
        chosen.add(n)
        n = back[n]
    return chosen


def _clean(attempt: Attempt, fewest: float) -> bool:
    """Whether a take was read right: by ear where the ear can tell (``verdict``), else by its
    text: no more errors than the line's best take, give or take ``CLEAN_MARGIN``."""
    by_ear = verdict(attempt)
    return by_ear if by_ear is not None else attempt.errors <= fewest + CLEAN_MARGIN


def _ranked(attempts: Sequence[Attempt], ns: list[int]) -> dict[int, int]:
    """Each of one line's attempts' rank among them in time: later is higher."""
    by_time = sorted(ns, key=lambda n: attempts[n].last)
    return {n: rank for rank, n in enumerate(by_time)}


def _weight(attempt: Attempt, clean: bool, rank: int, policy: TakePolicy) -> int:
    if policy == "last":
        parts = (1, int(clean), rank, attempt.matched)
    else:
        score = attempt.size if verdict(attempt) else attempt.score
        parts = (1, 0, max(round(score * 100), 0), rank)
    weight = 0
    for part in parts:
        weight = weight * _RADIX + part
    return weight


class _PrefixMax:
    """Fenwick tree: the best (weight, attempt) among attempts ending at or before an item."""

    def __init__(self, size: int) -> None:
        self._tree: list[tuple[int, int]] = [(0, -1)] * (size + 1)

    def update(self, position: int, value: tuple[int, int]) -> None:
        i = position + 1
        while i < len(self._tree):
            self._tree[i] = max(self._tree[i], value)
            i += i & -i

    def query(self, position: int) -> tuple[int, int]:
        best = (0, -1)
        i = position + 1
        while i > 0:
            best = max(best, self._tree[i])
            i -= i & -i
        return best
