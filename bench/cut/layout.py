"""The retake layout of a clip, drawn from a seed: which takes, fillers, chatter and silences.

The layout works on *phrases* (lists of words) and refers to words as ``(phrase, index)``, so the
same plan can be spoken by espeak-ng (generator.py) or spliced from recorded human phrases
(human.py). Every step carries its label (truth.py), so the labels follow the layout exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from truth import (
    BAD_TAKE,
    CHATTER,
    DROP,
    FALSE_START,
    FILLER,
    GAP,
    KEEP,
    LONG_SILENCE,
    LONG_SILENCE_MIN,
)

Ref = tuple[int, int]  # (phrase, word index)
# Picks a stand-in for a word (a wrong-word take): the ref of the word said instead, or None.
Substitute = Callable[[Ref, random.Random], Ref | None]
# Picks a word a reader slips into a line.
Insert = Callable[[random.Random], Ref]


@dataclass
class Step:
    kind: str  # "say" | "sil"
    label: str
    refs: list[Ref] = field(default_factory=list)
    seconds: float = 0.0  # silences
    script_line: int | None = None  # 1-based
    variant: str | None = None


@dataclass
class Shape:
    """How a layout is drawn (the synthetic and human sets differ in line counts)."""

    min_lines: int = 3
    max_lines: int = 15
    line_skew: float = 3.0  # line count = min + span * random() ** skew: mostly short scripts
    failed_weights: tuple[float, ...] = (0.45, 0.3, 0.17, 0.08)  # P(0, 1, 2, 3 failed takes)
    p_missing: float = 0.2  # a clip with one script line never said
    p_chatter: float = 0.3  # after a failed take
    p_filler_before: float = 0.15  # before a take
    p_filler_inside: float = 0.2  # inside the keep take (split around it)
    p_after: float = 0.08  # a wrong-word take after the good one (the good one stays keep)
    p_long: float = 0.15  # a pause is a long silence


@dataclass
class Layout:
    script_lines: list[int]  # phrase ids of the script lines, in order
    missing: list[int]  # 1-based lines never said
    steps: list[Step]


def draw(
    rng: random.Random,
    phrases: list[list[str]],
    candidates: list[int],
    chatter: list[int],
    fillers: list[int],
    substitute: Substitute,
    insert: Insert,
    shape: Shape,
) -> Layout:
    """A layout over ``phrases``: script lines drawn from ``candidates``, in their drawn order."""
    span = shape.max_lines - shape.min_lines + 1
    count = min(len(candidates), shape.min_lines + int(span * rng.random() ** shape.line_skew))
    lines = rng.sample(candidates, count)
    missing = [rng.randint(2, count)] if count >= 4 and rng.random() < shape.p_missing else []
    steps: list[Step] = []

    def pause(short: bool = False) -> None:
        if short:
            steps.append(Step("sil", DROP, seconds=rng.uniform(0.15, 0.6)))
        elif rng.random() < shape.p_long:
            steps.append(Step("sil", LONG_SILENCE, seconds=rng.uniform(LONG_SILENCE_MIN, 5.0)))
        else:
            steps.append(Step("sil", DROP, seconds=rng.uniform(0.2, 2.0)))

    def filler() -> None:
        steps.append(Step("say", FILLER, [(rng.choice(fillers), 0)]))

    pause()
    for number, phrase in enumerate(lines, 1):
        if number in missing:
            continue
        words = [(phrase, i) for i in range(len(phrases[phrase]))]
        failed = rng.choices(range(len(shape.failed_weights)), weights=shape.failed_weights)[0]
        for _ in range(failed):
            if rng.random() < shape.p_filler_before:
                filler()
                pause(short=True)
            variant = rng.choices(["false_start", "wrong", "repeat"], weights=[45, 35, 20])[0]
            if variant == "false_start":
                steps.append(Step("say", FALSE_START, _prefix(words, rng), script_line=number,
                                  variant="false_start"))  # fmt: skip
            elif variant == "repeat":
                steps.append(Step("say", BAD_TAKE, list(words), script_line=number,
                                  variant="repeat"))  # fmt: skip
            else:
                refs, how = _wrong(words, rng, substitute, insert)
                steps.append(Step("say", BAD_TAKE, refs, script_line=number, variant=how))
            pause()
            if rng.random() < shape.p_chatter:
                steps.append(Step("say", CHATTER, _all(phrases, rng.choice(chatter))))
                pause()
        if rng.random() < shape.p_filler_before:
            filler()
            pause(short=True)
        if len(words) >= 5 and rng.random() < shape.p_filler_inside:
            split = rng.randint(2, len(words) - 2)
            steps.append(Step("say", KEEP, words[:split], script_line=number))
            steps.append(Step("sil", GAP, seconds=rng.uniform(0.1, 0.35)))
            filler()
            steps.append(Step("sil", GAP, seconds=rng.uniform(0.1, 0.35)))
            steps.append(Step("say", KEEP, words[split:], script_line=number))
        else:
            steps.append(Step("say", KEEP, list(words), script_line=number))
        pause()
        if rng.random() < shape.p_after:
            refs, how = _wrong(words, rng, substitute, insert)
            steps.append(Step("say", BAD_TAKE, refs, script_line=number, variant=f"after-{how}"))
            pause()
        if rng.random() < 0.1:
            steps.append(Step("say", CHATTER, _all(phrases, rng.choice(chatter))))
            pause()
    return Layout(lines, missing, _merged(steps))


def _all(phrases: list[list[str]], phrase: int) -> list[Ref]:
    return [(phrase, i) for i in range(len(phrases[phrase]))]


def _prefix(words: list[Ref], rng: random.Random) -> list[Ref]:
    """A false start: the first words, stopping well before the end."""
    n = len(words)
    return words[: rng.randint(min(2, n - 2), max(2, min(n - 3, 2 + n // 2)))]


def _wrong(
    words: list[Ref], rng: random.Random, substitute: Substitute, insert: Insert
) -> tuple[list[Ref], str]:
    """A complete take with one wrong word: substituted, left out or slipped in."""
    inner = list(range(1, len(words) - 1))
    how = rng.choices(["substitution", "deletion", "insertion"], weights=[60, 20, 20])[0]
    if how == "substitution":
        order = rng.sample(inner, len(inner))
        for position in order:
            instead = substitute(words[position], rng)
            if instead is not None:
                return [*words[:position], instead, *words[position + 1 :]], how
        how = "deletion"
    position = rng.choice(inner)
    if how == "deletion":
        return words[:position] + words[position + 1 :], how
    return [*words[:position], insert(rng), *words[position:]], how


def _merged(steps: list[Step]) -> list[Step]:
    """Adjacent silences become one; a long one if either was (or their sum is)."""
    out: list[Step] = []
    for step in steps:
        if out and step.kind == "sil" and out[-1].kind == "sil":
            last = out[-1]
            seconds = last.seconds + step.seconds
            if GAP in (last.label, step.label):
                label = GAP if seconds < LONG_SILENCE_MIN else LONG_SILENCE
            else:
                label = LONG_SILENCE if seconds >= LONG_SILENCE_MIN else DROP
            out[-1] = Step("sil", label, seconds=seconds)
        else:
            out.append(step)
    return out
