"""The bench's sets by name: how each makes the clip of a seed, and whether it has a script.

- ``synthetic``, ``human``: scripted recordings with retakes (generator.py, human.py); the
  engine is given the script.
- ``synthetic-talk``, ``human-talk``: unscripted talks (talk.py, talk_synthetic.py,
  talk_human.py); the engine is given no script.
"""

from __future__ import annotations

from collections.abc import Callable

import generator
import human
import talk_human
import talk_synthetic

MAKERS: dict[str, Callable[[int], generator.Clip]] = {
    "synthetic": generator.generate,
    "human": human.generate,
    "synthetic-talk": talk_synthetic.generate,
    "human-talk": talk_human.generate,
}
SCRIPTED = ("synthetic", "human")
UNSCRIPTED = ("synthetic-talk", "human-talk")
VOICES = {"synthetic": ("synthetic", "synthetic-talk"), "human": ("human", "human-talk")}
VERSIONS = {
    "synthetic": generator.GENERATOR_VERSION,
    "human": human.VERSION,
    "synthetic-talk": talk_synthetic.VERSION,
    "human-talk": talk_human.VERSION,
}


def clip_for(kind: str, seed: int) -> generator.Clip:
    return MAKERS[kind](seed)


def scripted(kind: str) -> bool:
    return kind in SCRIPTED


def kinds(voice: str, mode: str) -> list[str]:
    """The sets of ``voice`` (synthetic, human, both) in ``mode`` (scripted, unscripted, both),
    scripted first."""
    voices = ("synthetic", "human") if voice == "both" else (voice,)
    modes = ("scripted", "unscripted") if mode == "both" else (mode,)
    return [
        kind
        for m in modes
        for v in voices
        for kind in VOICES[v]
        if scripted(kind) == (m == "scripted")
    ]
