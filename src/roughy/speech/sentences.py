"""The decision without a script: the speech split into sentences, and a sentence whose
beginning the next one says again dropped as a restart (a false start, or a retake when it
says most of the next one too). Pure: words in, labels out.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from roughy.speech.labels import KEPT, Label, ends_sentence
from roughy.speech.script import SENTENCE_PAUSE
from roughy.speech.text import tokens
from roughy.speech.types import DropReason, Word

# A sentence is a restart of the next one when this share of its tokens recurs, in order, at
# the next one's start; a retake (not a false start) when it also says this share of the next.
RESTART_OVERLAP = 0.6
REPEAT_SHARE = 0.8


def sentence_labels(items: Sequence[Word], fillers: Sequence[bool]) -> list[Label | None]:
    """Each word's label (fillers' None): kept, unless its sentence is a restart of the next."""
    sentences = _sentences(items, fillers)
    said = [[t for k in sentence for t in tokens(items[k].text)] for sentence in sentences]
    labels: list[Label | None] = [None] * len(items)
    for s, sentence in enumerate(sentences):
        reason = _restart(said[s], said[s + 1]) if s + 1 < len(sentences) else None
        label = KEPT if reason is None else Label(keep=False, reason=reason, group=s)
        for k in sentence:
            labels[k] = label
    return labels


def _sentences(items: Sequence[Word], fillers: Sequence[bool]) -> list[list[int]]:
    """Words (fillers aside) split at sentence punctuation and at long silences."""
    sentences: list[list[int]] = []
    previous: int | None = None
    filled = 0.0  # filler time since the previous word
    for k, word in enumerate(items):
        if fillers[k]:
            filled += word.end - word.start
            continue
        if previous is None or (
            ends_sentence(items[previous].text.strip())
            or word.start - items[previous].end - filled >= SENTENCE_PAUSE
        ):
            sentences.append([])
        sentences[-1].append(k)
        previous, filled = k, 0.0
    return sentences


def _restart(said: list[str], then: list[str]) -> DropReason | None:
    """Whether ``then`` (the next sentence) starts over what ``said`` began, and how."""
    if not said or not then or said[0] not in then[:2]:
        return None
    if len(said) == 1:
        return "false_start" if said[0] == then[0] else None
    matcher = SequenceMatcher(None, said, then[: len(said) + 2], autojunk=False)
    overlap = sum(block.size for block in matcher.get_matching_blocks())
    if overlap < RESTART_OVERLAP * len(said):
        return None
    return "retake" if overlap >= REPEAT_SHARE * len(then) else "false_start"
