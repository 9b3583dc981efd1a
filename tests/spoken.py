"""Real speech with exact labels: espeak-ng phrases and digital silence, joined with sox.

Each phrase is synthesised on its own and trimmed of espeak's own silence, so the clip's
layout (where each phrase starts and ends) is known to the millisecond.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

RATE = 16_000


@dataclass(frozen=True)
class Placed:
    text: str
    start: float
    end: float


def _run(*args: str) -> None:
    binary = shutil.which(args[0])
    assert binary, f"{args[0]} is required (make test installs it)"
    subprocess.run([binary, *args[1:]], check=True, capture_output=True)


def _phrase(text: str, out: Path, voice: str, wpm: int) -> float:
    raw = out.with_suffix(".raw.wav")
    _run("espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text)
    _run(
        "sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out),
        "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse",
    )  # fmt: skip
    with wave.open(str(out)) as w:
        return w.getnframes() / RATE


def speak(
    parts: list[str | float], out: Path, voice: str = "en-us", wpm: int = 160
) -> list[Placed]:
    """A WAV of ``parts`` in order: a string is said, a number is that many seconds of silence.

    Returns where each said part lies in the clip.
    """
    placed: list[Placed] = []
    pieces: list[str] = []
    at = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, part in enumerate(parts):
            piece = Path(tmp) / f"{i:03d}.wav"
            if isinstance(part, str):
                length = _phrase(part, piece, voice, wpm)
                placed.append(Placed(part, at, at + length))
            else:
                _run("sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(piece),
                     "trim", "0", f"{part:.3f}")  # fmt: skip
                length = part
            pieces.append(str(piece))
            at += length
        _run("sox", *pieces, str(out))
    return placed
