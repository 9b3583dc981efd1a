"""Synthetic scripted recordings with exact labels (research cut-engine.md §4.1).

Each clip is drawn from its seed (``random.Random(seed)``): script lines from the sentence bank,
a retake layout (layout.py), one espeak-ng voice, speed and pitch, and for some seeds pink noise,
level drift and an mp4 container. Every spoken event is synthesised on its own with
``espeak-ng -w``, resampled to 16 kHz mono and trimmed of espeak's own silence by sox, and the
events are joined with exact digital silence, so each label's edges are exact to the sample.

Clips are cached under ``.cache/synthetic/g<GENERATOR_VERSION>/<seed>/`` (clip.wav or clip.mp4,
truth.json); bump GENERATOR_VERSION whenever a change would alter a clip.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from audio import RATE, Samples, pink_noise, to_16k_trimmed, to_video, write_wav
from bank import CHATTER, FALLBACK_SWAPS, FILLERS, INSERTIONS, NUMBER_SWAPS, SENTENCES, SWAPS
from layout import Layout, Ref, Shape, Step, draw
from truth import Event, Truth, check

GENERATOR_VERSION = 1
HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

VOICES = ("en-us", "en-gb", "en-us+f3", "en-us+m7", "en-gb+f2", "en-us+f2", "en-gb-x-rp",
          "en-us+m3")  # fmt: skip
COLOURS = ("steelblue", "darkolivegreen", "indianred", "slategray")


@dataclass(frozen=True)
class Clip:
    seed: int
    media: Path  # clip.wav or clip.mp4
    truth: Truth


@dataclass(frozen=True)
class Voice:
    name: str
    wpm: int
    pitch: int


class Vocabulary:
    """The phrase table of one synthetic clip: sentences, chatter, fillers, then stand-ins."""

    def __init__(self) -> None:
        self.phrases: list[list[str]] = []

    def add(self, text: str) -> int:
        self.phrases.append(text.split())
        return len(self.phrases) - 1

    def substitute(self, ref: Ref, rng: random.Random) -> Ref | None:
        word = self.phrases[ref[0]][ref[1]]
        core = word.rstrip(".,!?;:")
        tail = word[len(core) :]
        lower = core.lower()
        if lower in SWAPS:
            instead = SWAPS[lower]
            if core[:1].isupper():
                instead = instead.capitalize()
        elif core in NUMBER_SWAPS:
            instead = NUMBER_SWAPS[core]
        elif len(core) >= 5 and core.isalpha() and rng.random() < 0.5:
            instead = rng.choice([w for w in FALLBACK_SWAPS if w != lower])
        else:
            return None
        return (self.add(instead + tail), 0)

    def insert(self, rng: random.Random) -> Ref:
        return (self.add(rng.choice(INSERTIONS)), 0)


def plan(seed: int) -> tuple[Layout, Vocabulary, dict[str, object]]:
    """The layout, phrase table and rendering choices of one seed (pure: no files)."""
    rng = random.Random(seed)
    vocab = Vocabulary()
    candidates = [vocab.add(s) for s in SENTENCES]
    chatter = [vocab.add(s) for s in CHATTER]
    fillers = [vocab.add(s) for s in FILLERS]
    layout = draw(rng, vocab.phrases, candidates, chatter, fillers, vocab.substitute,
                  vocab.insert, Shape())  # fmt: skip
    meta: dict[str, object] = {
        "set": "synthetic",
        "seed": seed,
        "generator": GENERATOR_VERSION,
        "voice": rng.choice(VOICES),
        "wpm": rng.randint(140, 190),
        "pitch": rng.randint(30, 70),
        "noise_snr_db": round(rng.uniform(15, 30), 1) if rng.random() < 0.3 else None,
        "drift_db": round(rng.uniform(3, 6), 1) if rng.random() < 0.25 else None,
        "drift_period_s": round(rng.uniform(8, 30), 1),
        "video": rng.random() < 0.15,
        "colour": rng.choice(COLOURS),
        "jitter_seed": rng.getrandbits(32),
    }
    return layout, vocab, meta


def clip_dir(seed: int) -> Path:
    return CACHE / "synthetic" / f"g{GENERATOR_VERSION}" / str(seed)


def generate(seed: int) -> Clip:
    """The clip of ``seed``, from the cache or made now."""
    folder = clip_dir(seed)
    truth_path = folder / "truth.json"
    if truth_path.exists():
        truth = Truth.load(truth_path)
        return Clip(seed, folder / str(truth.meta["media"]), truth)
    layout, vocab, meta = plan(seed)
    folder.mkdir(parents=True, exist_ok=True)
    jitter = random.Random(int(str(meta["jitter_seed"])))
    base = Voice(str(meta["voice"]), int(str(meta["wpm"])), int(str(meta["pitch"])))
    with tempfile.TemporaryDirectory(prefix="cutgen-") as tmp:
        work = Path(tmp)
        pieces: list[Samples] = []
        for step in layout.steps:
            if step.kind == "sil":
                pieces.append(np.zeros(round(step.seconds * RATE), dtype=np.float32))
                continue
            text = " ".join(vocab.phrases[p][i] for p, i in step.refs)
            if step.label == "drop:filler":
                voice = Voice(base.name, jitter.randint(90, 130), base.pitch)
            else:
                voice = Voice(base.name, base.wpm + jitter.randint(-8, 8),
                              min(99, max(0, base.pitch + jitter.randint(-4, 4))))  # fmt: skip
            pieces.append(speak(text, voice, work))
        texts = [" ".join(vocab.phrases[p][i] for p, i in s.refs) for s in layout.steps]
        script = [" ".join(vocab.phrases[p]) for p in layout.script_lines]
        truth = assemble(layout.steps, texts, pieces, script, layout.missing, meta)
        samples = stress(np.concatenate(pieces), truth, seed)
        wav = folder / "clip.wav"
        write_wav(wav, samples)
        if meta["video"]:
            to_video(wav, folder / "clip.mp4", str(meta["colour"]))
            wav.unlink()
            truth.meta["media"] = "clip.mp4"
        else:
            truth.meta["media"] = "clip.wav"
    check(truth)
    truth.save(truth_path)
    return Clip(seed, folder / str(truth.meta["media"]), truth)


def speak(text: str, voice: Voice, work: Path) -> Samples:
    """``text`` said by espeak-ng, at 16 kHz, trimmed to its sound."""
    raw = work / "espeak.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice.name, "-s", str(voice.wpm), "-p", str(voice.pitch),
         "-w", str(raw), text],
        check=True,
    )  # fmt: skip
    return to_16k_trimmed(raw, work / "event.wav")


def assemble(
    steps: list[Step],
    texts: list[str],
    pieces: list[Samples],
    script: list[str],
    missing: list[int],
    meta: dict[str, object],
) -> Truth:
    """The truth of ``pieces`` joined end to end: times counted in samples, so exact."""
    events: list[Event] = []
    at = 0
    for step, text, piece in zip(steps, texts, pieces, strict=True):
        start, at = at, at + len(piece)
        events.append(Event(start / RATE, at / RATE, "say" if step.kind == "say" else "sil",
                            step.label, text, step.script_line, step.variant))  # fmt: skip
    return Truth(script, events, at / RATE, list(missing), dict(meta))


def stress(samples: Samples, truth: Truth, seed: int) -> Samples:
    """Pink noise at the drawn SNR (against the speech's RMS), then level drift; no clipping."""
    out = samples.astype(np.float32).copy()
    rng = np.random.default_rng(seed)
    snr = truth.meta.get("noise_snr_db")
    if isinstance(snr, float):
        speech = np.concatenate(
            [out[round(e.start * RATE) : round(e.end * RATE)]
             for e in truth.events if e.kind == "say"]
        )  # fmt: skip
        rms = float(np.sqrt(np.mean(speech**2)))
        out += pink_noise(len(out), rng) * rms / 10 ** (snr / 20)
    drift = truth.meta.get("drift_db")
    if isinstance(drift, float):
        t = np.arange(len(out), dtype=np.float32) / RATE
        period = float(str(truth.meta["drift_period_s"]))
        phase = rng.uniform(0, 2 * np.pi)
        out *= (10 ** (drift * np.sin(2 * np.pi * t / period + phase) / 20)).astype(np.float32)
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 0.95:
        out *= 0.95 / peak
    return out
