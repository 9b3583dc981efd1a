"""The script WER of a cut: render the kept spans with ffmpeg, transcribe the render with the
same offline Whisper, and compare its words with the script's (research cut-engine.md §4.2).

The render is what Roughy's export would play: each span cut with ``atrim``/``asetpts``, a 10 ms
fade at each edge, then ``concat``. Transcripts of renders are cached by the media file, the
spans and the model, so a re-run only transcribes cuts that changed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import jiwer
from audio import RATE
from metrics import Span

from roughy.speech.hear.models import prepare_model
from roughy.speech.text import tokens

FADE = 0.01
HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
MODELS = CACHE / "models"

_whisper: dict[tuple[str, int], Any] = {}


def render(media: Path, spans: list[Span], out: Path) -> None:
    """``spans`` of ``media``'s audio, joined, as a 16 kHz mono wav."""
    parts = []
    for i, (start, end) in enumerate(spans):
        length = end - start
        chain = f"[0:a]atrim=start={start:.4f}:end={end:.4f},asetpts=PTS-STARTPTS"
        if length > 4 * FADE:
            chain += f",afade=t=in:d={FADE},afade=t=out:st={length - FADE:.4f}:d={FADE}"
        parts.append(f"{chain}[a{i}]")
    joined = "".join(f"[a{i}]" for i in range(len(spans)))
    graph = ";\n".join([*parts, f"{joined}concat=n={len(spans)}:v=0:a=1[out]"])
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as script:
        script.write(graph)
    try:
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(media),
             "-filter_complex_script", script.name, "-map", "[out]", "-ac", "1",
             "-ar", str(RATE), "-c:a", "pcm_s16le", str(out)],
            check=True,
        )  # fmt: skip
    finally:
        Path(script.name).unlink()


def transcribe_text(wav: Path, model: str, threads: int) -> str:
    """Plain text of ``wav`` by faster-whisper, with the engine's own decoding settings."""
    from faster_whisper import WhisperModel

    key = (model, threads)
    if key not in _whisper:
        folder = prepare_model(model, MODELS)
        _whisper[key] = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                     cpu_threads=threads, local_files_only=True)  # fmt: skip
    segments, _ = _whisper[key].transcribe(
        str(wav), language="en", beam_size=5, condition_on_previous_text=False, vad_filter=True
    )
    return " ".join(segment.text.strip() for segment in segments)


def script_wer(
    media: Path, spans: list[Span], reference: list[str], model: str, threads: int
) -> dict[str, Any]:
    """WER of the render of ``spans`` against the ``reference`` lines: counts and the text."""
    key = hashlib.sha256(
        json.dumps([str(media), media.stat().st_mtime_ns, model,
                    [[round(a, 4), round(b, 4)] for a, b in spans]]).encode()
    ).hexdigest()[:24]  # fmt: skip
    cached = CACHE / "renders" / f"{key}.json"
    if cached.exists():
        heard = json.loads(cached.read_text())["text"]
    else:
        if spans:
            with tempfile.TemporaryDirectory(prefix="cutrender-") as tmp:
                out = Path(tmp) / "render.wav"
                render(media, spans, out)
                heard = transcribe_text(out, model, threads)
        else:
            heard = ""
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps({"text": heard}))
    return wer_counts(reference, heard)


def wer_counts(reference: list[str], heard: str) -> dict[str, Any]:
    ref = [t for line in reference for t in tokens(line)]
    hyp = tokens(heard)
    if not hyp:
        s, d, i = 0, len(ref), 0
    else:
        result = jiwer.process_words(" ".join(ref), " ".join(hyp))
        s, d, i = result.substitutions, result.deletions, result.insertions
    return {"wer_ref_words": len(ref), "wer_s": s, "wer_d": d, "wer_i": i,
            "wer_errors": s + d + i, "wer_heard": heard}  # fmt: skip
