"""The plan while the passes make it: the items on the timeline and what is known of them."""

from __future__ import annotations

from dataclasses import dataclass, field

from roughy.speech.decide.labels import Label
from roughy.speech.decide.levels import Levels
from roughy.speech.types import CutOptions, Span, Word


@dataclass(frozen=True)
class Unwritten:
    """Where chosen takes were heard to begin before their first heard item (``starts``, by
    that item) and to end after their last (``ends``, by that item): the recogniser left out
    their first or last words."""

    starts: dict[int, float] = field(default_factory=dict)
    ends: dict[int, float] = field(default_factory=dict)


@dataclass
class Draft:
    """Items (words and fillers, time-ordered, not overlapping), which of them are
    hesitations (``fillers``) and what the decision says of each (``labels``). The passes
    (``roughy.speech.decide.plan.PASSES``) change these three lists, always together."""

    items: list[Word]
    fillers: list[bool]
    labels: list[Label]
    levels: Levels | None
    options: CutOptions
    sounds: list[Span]  # sounds in the pauses no word covers (``levels.unworded``)
    parted: list[bool]  # a breath between items k and k + 1 (``levels.apart``)
    unwritten: Unwritten
    shortest_filler: float  # fillers this long or longer inside kept speech are cut out
