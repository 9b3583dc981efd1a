"""The labelled truth of a clip: what was said when, and what a perfect cut keeps.

``truth.json`` holds ``{"script", "events": [{start, end, kind, text, label, script_line}],
"duration", ...}``. Labels:

- ``keep``: the take of a script line that a cut must keep (the last correct complete take; a
  correct take followed only by a wrong-word take stays ``keep``). A keep take split around an
  interior filler is several ``keep`` events.
- ``gap``: a short natural pause inside a keep take (neutral).
- ``drop:filler``, ``drop:false_start``, ``drop:bad_take`` (wrong words, or a correct take said
  again later), ``drop:chatter``: speech a cut must remove.
- ``drop:long_silence``: a silence of at least 2.5 s (at most 0.6 s of it may stay).
- ``drop``: an ordinary silence between takes (neutral).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

EventKind = Literal["say", "sil"]

KEEP = "keep"
GAP = "gap"
DROP = "drop"
FILLER = "drop:filler"
FALSE_START = "drop:false_start"
BAD_TAKE = "drop:bad_take"
CHATTER = "drop:chatter"
LONG_SILENCE = "drop:long_silence"

SPEECH_DROPS = (FILLER, FALSE_START, BAD_TAKE, CHATTER)
NEUTRAL = (GAP, DROP)
LONG_SILENCE_MIN = 2.5


@dataclass
class Event:
    start: float
    end: float
    kind: EventKind
    label: str
    text: str = ""
    script_line: int | None = None  # 1-based line this event says (or attempts)
    variant: str | None = None  # bad takes: substitution / deletion / insertion / repeat / after

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Truth:
    script: list[str]
    events: list[Event]
    duration: float
    missing_lines: list[int] = field(default_factory=list)  # 1-based lines never said
    meta: dict[str, Any] = field(default_factory=dict)  # voice, speed, stress variants...

    @property
    def script_text(self) -> str:
        return "\n".join(self.script)

    def keep_events(self) -> list[Event]:
        return [e for e in self.events if e.label == KEEP]

    def said_lines(self) -> list[str]:
        """The script lines that were said, in order (the reference of the script WER)."""
        return [line for i, line in enumerate(self.script, 1) if i not in self.missing_lines]

    def save(self, path: Path) -> None:
        data = asdict(self)
        path.write_text(json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> Truth:
        data = json.loads(path.read_text())
        data["events"] = [Event(**e) for e in data["events"]]
        return cls(**data)


def check(truth: Truth) -> None:
    """Raise if events overlap, leave holes, or the labels contradict the script."""
    at = 0.0
    for event in truth.events:
        if abs(event.start - at) > 1e-6 or event.end < event.start:
            raise ValueError(f"event not contiguous at {at:.3f}: {event}")
        at = event.end
    if abs(at - truth.duration) > 1e-3:
        raise ValueError(f"events end at {at:.3f}, duration {truth.duration:.3f}")
    kept_lines = {e.script_line for e in truth.keep_events()}
    for line in range(1, len(truth.script) + 1):
        if (line in kept_lines) == (line in truth.missing_lines):
            raise ValueError(f"line {line}: kept={line in kept_lines} missing")
    lines = [e.script_line for e in truth.keep_events()]
    if lines != sorted(lines):
        raise ValueError("keep takes out of script order")
