"""The speech engine: what was said in a recording, and what of it to keep.

Two engines, each in its folder:

- ``hear``: the recording decoded, transcribed offline and aligned to the sound; heavy
  (Whisper, pocketsphinx, numpy) and run only by workers;
- ``decide``: pure: the words (with a script, and the levels, where there are) in, a
  ``CutPlan`` with a reason for every drop out. ``decide.decide`` is its entry point.

``types`` holds the values the two pass between them and to the rest of Roughy; ``text`` how
words are compared. Importing this package loads neither engine: ``from roughy.speech import
decide`` or ``transcribe_file`` loads the one asked for.

Glossary, in the engine's own words:

- *item*: a word or a filler on the timeline; *levels*: the loudness (RMS) of each 10 ms
  frame; *sound*: where the levels rise over the background towards speech.
- *filler*: a hesitation ("um", a drawn-out "the..."); *unworded sound*: a sound in a pause
  that no word covers.
- *line*: one sentence of the script; *attempt*: a run of words that follows a line; *take*:
  a complete attempt; *false start*: an attempt that stops short; *retake*: a take said again
  later; *chatter* (``off_script``): words no line has.
- *stretch* and *repeat* (without a script): words the speaker then says again, and their
  saying again; a *restart cue* ("sorry, let me start again") between the two goes with the
  stretch.
- *listen* / *word fits*: the recording heard again against other words (forced alignment),
  to tell a take the recogniser misheard from one the speaker misread.
- *segment*: a span the cut keeps; *decision*: one item or pause, kept or dropped and why,
  with a *note* where the engine kept something in doubt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roughy.speech.decide import decide as decide
    from roughy.speech.hear.transcribe import transcribe_file as transcribe_file

_LAZY = {
    "decide": "roughy.speech.decide",
    "transcribe_file": "roughy.speech.hear.transcribe",
}


def __getattr__(name: str) -> Any:
    """The engines' entry points, imported when first asked for."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'roughy.speech' has no attribute {name!r}")
