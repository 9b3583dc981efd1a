"""The methods Roughy is measured against: keep everything, auto-editor's loudness gate, and the
oracle (the true keep spans: the ASR floor of the script WER).

The loudness gate re-implements auto-editor's default audio edit (research cut-engine.md §3.1):
the level of each timebase frame (30 fps) is the maximum absolute sample in it; a frame is loud
when that is at least ``threshold`` (0.04); loud runs shorter than ``minclip`` (3 frames) are
dropped, then silent runs shorter than ``mincut`` (6 frames) are filled; each remaining run is
padded by ``margin`` (0.2 s) on both sides.
"""

from __future__ import annotations

import math
from itertools import groupby

import numpy as np
from audio import RATE, Samples
from metrics import Span, normalised
from truth import KEEP, Truth

FPS = 30
THRESHOLD = 0.04
MINCLIP = 3
MINCUT = 6
MARGIN = 0.2


def keep_everything(truth: Truth) -> list[Span]:
    return [(0.0, truth.duration)]


def oracle(truth: Truth) -> list[Span]:
    return [(e.start, e.end) for e in truth.events if e.label == KEEP]


def loudness_gate(
    samples: Samples,
    *,
    fps: int = FPS,
    threshold: float = THRESHOLD,
    minclip: int = MINCLIP,
    mincut: int = MINCUT,
    margin: float = MARGIN,
) -> list[Span]:
    duration = len(samples) / RATE
    frames = math.ceil(duration * fps)
    loud = np.zeros(frames, dtype=bool)
    for i in range(frames):
        chunk = samples[int(i * RATE / fps) : int((i + 1) * RATE / fps)]
        loud[i] = chunk.size > 0 and float(np.max(np.abs(chunk))) >= threshold
    _remove_small(loud, minclip, True)
    _remove_small(loud, mincut, False)
    spans = []
    at = 0
    for value, run in groupby(loud.tolist()):
        length = len(list(run))
        if value:
            spans.append((at / fps - margin, (at + length) / fps + margin))
        at += length
    return normalised(spans, duration)


def _remove_small(flags: np.ndarray, shortest: int, value: bool) -> None:
    """Runs of ``value`` shorter than ``shortest`` frames flip (auto-editor's mut_remove_small)."""
    at = 0
    for current, run in groupby(flags.tolist()):
        length = len(list(run))
        if current == value and length < shortest:
            flags[at : at + length] = not value
        at += length
