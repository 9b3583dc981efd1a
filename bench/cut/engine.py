"""Roughy's cut engine as the bench runs it: ``transcribe_file`` then ``decide``, both timed.

Transcripts can be cached by (clip, model, transcriber version) to re-run only the decision.
The transcriber version hashes the ``src/roughy/speech`` files a transcript depends on (all
but the decision's folder, ``decide/``), so a change there transcribes again while a change to
the decision does not. The engine version, reported with the results, hashes them
all. A cached transcript carries the wall time of the run that made it, flagged ``cached``.
``preload`` imports the engine once, at the start of a run (its processes fork from there), and
fixes both versions to the code it loaded: a file changed on disk during the run changes
neither what runs nor where its transcripts are filed.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import time
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from roughy.speech.types import CutOptions, Transcript, Word

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
MODELS = CACHE / "models"
SPEECH_SRC = HERE.parent.parent / "src" / "roughy" / "speech"


DECISION = SPEECH_SRC / "decide"  # the pure decision: a change there transcribes nothing again


def _version(decision: bool = True) -> str:
    digest = hashlib.sha256()
    for path in sorted(SPEECH_SRC.rglob("*.py")):
        if decision or DECISION not in path.parents:
            name = str(path.relative_to(SPEECH_SRC))
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def engine_version() -> str:
    return _version()


def transcriber_version() -> str:
    return _version(decision=False)


_LOADED: dict[str, str] = {}  # the versions of the code ``preload`` imported


def preload() -> str:
    """Import every ``roughy.speech`` module now and return the engine version they are."""
    if not _LOADED:
        for path in sorted(SPEECH_SRC.rglob("*.py")):
            parts = path.relative_to(SPEECH_SRC).with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            importlib.import_module(f"roughy.speech.{module}" if module else "roughy.speech")
        _LOADED["engine"] = engine_version()
        _LOADED["transcriber"] = transcriber_version()
    return _LOADED["engine"]


def available() -> bool:
    return all(
        importlib.util.find_spec(f"roughy.speech.{name}") for name in ("decide", "hear.transcribe")
    )


def transcribe(
    media: Path, key: str, model: str, threads: int, use_cache: bool
) -> tuple[Transcript, np.ndarray, float, bool]:
    """The transcript and levels of ``media``, its wall time, and whether it came from cache."""
    from roughy.speech.hear.transcribe import transcribe_file

    version = _LOADED.get("transcriber") or transcriber_version()
    folder = CACHE / "transcripts" / f"{model}-{version}"
    stem = folder / key
    if use_cache and stem.with_suffix(".json").exists():
        data = json.loads(stem.with_suffix(".json").read_text())
        words = tuple(Word(**w) for w in data["words"])
        transcript = Transcript(data["language"], data["duration"], words, data["model"])
        return transcript, np.load(stem.with_suffix(".npy")), data["seconds"], True
    began = time.perf_counter()
    transcript, levels = transcribe_file(
        media, model=model, models_dir=MODELS, language="en", threads=threads
    )
    seconds = time.perf_counter() - began
    folder.mkdir(parents=True, exist_ok=True)
    record = asdict(transcript) | {"seconds": seconds}
    stem.with_suffix(".json").write_text(json.dumps(record))
    np.save(stem.with_suffix(".npy"), levels)
    return transcript, levels, seconds, False


def cut(
    media: Path, key: str, script: str | None, model: str, threads: int, use_cache: bool
) -> dict[str, Any]:
    """Roughy's spans for ``media``, with the plan's missing lines, decisions and timings.
    Without a script (the unscripted sets) the decision gets no ``listen``/``word_fits``: they
    compare takes with script lines."""
    from roughy.speech.decide import decide
    from roughy.speech.hear.align import fit, word_fits
    from roughy.speech.hear.audio import decode

    transcript, levels, transcribe_s, cached = transcribe(media, key, model, threads, use_cache)
    began = time.perf_counter()
    recording = decode(media)  # the cut job decodes the recording again to listen to takes
    ears = {} if script is None else {"listen": partial(fit, recording),
                                      "word_fits": partial(word_fits, recording)}  # fmt: skip
    plan = decide(transcript.words, script, duration=transcript.duration, levels=levels,
                  options=CutOptions(), **ears)  # fmt: skip
    decide_s = time.perf_counter() - began
    return {
        "spans": [(s.start, s.end) for s in plan.segments],
        "missing_lines": list(plan.missing_lines),
        "decisions": [asdict(d) for d in plan.decisions],
        "words": [asdict(w) for w in transcript.words],
        "transcribe_s": transcribe_s,
        "decide_s": decide_s,
        "cached": cached,
        "audio_s": transcript.duration,
    }
