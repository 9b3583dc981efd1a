"""What the decision says of each word: kept or dropped, why, and which take it belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from roughy.speech.types import DropReason

_SENTENCE_PUNCTUATION = re.compile(r"[.!?…][\"'”’)\]]*$")


@dataclass(frozen=True)
class Label:
    keep: bool
    reason: DropReason | None = None
    line: int | None = None  # 1-based
    group: int | None = None  # items of one take, attempt or run of chatter share a group
    note: str | None = None  # a doubt for a reviewer (``Decision.note``)


KEPT = Label(keep=True)
DROPPED = Label(keep=False)


def ends_sentence(text: str) -> bool:
    """Whether a word as the recogniser wrote it ends a sentence ("there.", "done?\"")."""
    return _SENTENCE_PUNCTUATION.search(text) is not None
