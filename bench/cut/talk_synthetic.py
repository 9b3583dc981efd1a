"""Synthetic unscripted talks (set ``synthetic-talk``): talk.py's layout said by espeak-ng.

Each clip is drawn from its seed: the talk (templates below and the scripted set's ordinary
sentences, bank.SENTENCES), then the voice, speed, pitch, noise, level drift and container,
drawn as generator.py draws them. Every event is its own espeak-ng utterance, trimmed and
joined with exact silence (generator.speak / assemble / stress), so every label is exact. A
false start is the sentence's first words said as an utterance of their own; a retake is the
same text said again (espeak says it the same way, a little faster or slower).

Clips are cached under ``.cache/synthetic-talk/t<VERSION>/<seed>/``; bump VERSION whenever a
change would alter a clip.
"""

from __future__ import annotations

import random
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
from audio import RATE, Samples, to_video, write_wav
from bank import FILLERS, SENTENCES
from generator import COLOURS, VOICES, Clip, Vocabulary, Voice, assemble, speak, stress
from layout import Ref
from talk import Talk, TalkBank, TalkShape, Template, check_talk, check_truth, draw_talk
from truth import FILLER, Truth

VERSION = 1
SET = "synthetic-talk"
HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / SET

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NAMES = ("Anna", "Ben", "Clara", "David", "Emma", "Frank", "Grace")
_CITIES = ("Oxford", "Bristol", "Leeds", "York", "Bath", "Dover")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
_COUNT = ("one", "two", "three", "four", "five", "six", "seven")

# (text with {} slots, values of each slot, the slot a run walks in order or None).
TEMPLATES: tuple[tuple[str, tuple[tuple[str, ...], ...], int | None], ...] = (
    ("On {}, the shop opens at {}.", (_DAYS, ("eight", "nine", "ten", "eleven", "noon")), 0),
    ("The museum opens at {} on {}.",
     (("eight", "nine", "ten", "eleven"), ("weekdays", "weekends", "holidays", "Sundays")), None),
    ("Step {}, {} the {}.", (_COUNT, ("check", "clean", "tighten", "replace", "remove"),
                             ("cables", "filter", "battery", "cover", "screws", "fan")), 0),
    ("{}, we check the {}.", (("First", "Second", "Third", "Fourth", "Fifth"),
                              ("oil", "tires", "brakes", "lights", "mirrors", "wipers")), 0),
    ("In {}, we sold {} thousand copies.",
     (("2017", "2018", "2019", "2020", "2021", "2022", "2023"),
      ("twelve", "fourteen", "twenty", "thirty", "forty", "sixty")), 0),
    ("Our {} quarter revenue grew by {} percent.",
     (("first", "second", "third", "fourth"), ("four", "six", "nine", "twelve", "eighteen")), 0),
    ("The meeting on March {} starts at {} o'clock.",
     (("second", "fourth", "sixth", "eighth", "tenth"), ("two", "three", "four", "five")), 0),
    ("{} will bring the {}.", (_NAMES, ("salad", "drinks", "bread", "plates", "cake", "candles")),
     None),
    ("The {} is on the {} floor.",
     (("kitchen", "library", "gym", "office", "cafeteria"), _ORDINALS[:5]), None),
    ("We need {} cups of {}.", (("two", "three", "four", "five"),
                                ("flour", "sugar", "milk", "rice", "water")), None),
    ("Turn {} at the {} light.", (("left", "right"), ("first", "second", "third", "next")), None),
    ("Chapter {} covers {}.", (_COUNT, ("the farms", "the harbor", "the railway", "the war",
                                        "the mills", "the schools")), 0),
    ("The {} prize goes to {}.", (("first", "second", "third"), _NAMES), 0),
    ("Tickets for {} cost {} dollars.", (("adults", "children", "students", "seniors",
                                          "families"), ("five", "eight", "ten", "twelve")), None),
    ("The bus to {} leaves every {} minutes.", (_CITIES, ("ten", "twenty", "thirty", "forty")),
     None),
    ("Our office in {} has {} people.", (("Berlin", "Madrid", "Lisbon", "Dublin", "Oslo"),
                                         ("six", "nine", "twelve", "forty", "eighty")), None),
    ("The temperature on {} will reach {} degrees.",
     (_DAYS, ("eighteen", "twenty", "twenty two", "twenty five", "thirty")), 0),
    ("Flight {} to {} boards at gate {}.", (("two ten", "four twenty", "six thirty",
                                             "eight fifty"), _CITIES, ("four", "seven", "eleven",
                                                                       "twelve")), None),
    ("The {} team meets every {}.", (("sales", "design", "support", "research"), _DAYS[:5]),
     None),
    ("Put the {} in the {} box.", (("cables", "books", "tools", "cups", "letters"),
                                   ("red", "blue", "green", "yellow", "white")), None),
    ("The {} line runs until {} at night.", (("red", "blue", "green", "orange"),
                                             ("ten", "eleven", "midnight")), None),
    ("The price of {} went up by {} cents.", (("bread", "milk", "eggs", "coffee", "butter"),
                                              ("five", "ten", "twenty", "thirty")), None),
    ("{} is the deadline for the {} report.", (("Friday", "Monday", "Wednesday"),
                                               ("sales", "budget", "safety", "travel")), None),
    ("Lesson {} is about {}.", (_COUNT[:6], ("fractions", "decimals", "angles", "graphs",
                                             "percentages", "triangles")), 0),
    ("The {} train leaves at {} fifteen.", (("first", "second", "last", "next"),
                                            ("six", "seven", "eight", "nine")), None),
    ("Our score in round {} was {} points.",
     (_COUNT[:5], ("twelve", "fourteen", "nineteen", "twenty", "twenty six")), 0),
    ("Please call {} before {} o'clock.", (_NAMES, ("two", "three", "four", "five")), None),
    ("The {} bedroom has {} windows.", (("main", "guest", "small", "blue"),
                                        ("two", "three", "four")), None),
    ("Box number {} holds the {}.", (_COUNT[:6], ("cables", "tools", "books", "plates",
                                                  "lamps", "toys")), 0),
    ("On day {} we walk to {}.", (_COUNT[:5], ("the lake", "the old mill", "the village",
                                               "the castle", "the beach")), 0),
    ("Our {} store sold {} bikes in May.", (("north", "south", "east", "west", "city"),
                                            ("forty", "sixty", "ninety", "a hundred")), None),
    ("Question {} is worth {} points.", (_COUNT, ("five", "ten", "fifteen", "twenty")), 0),
)  # fmt: skip

CUES: tuple[str, ...] = (
    "Sorry.",
    "Sorry, let me start again.",
    "Let me start again.",
    "Let me say that again.",
    "No, wait.",
    "Sorry, once more.",
    "Let me try that again.",
)


def bank(vocab: Vocabulary) -> TalkBank:
    """The talk bank over ``vocab``: template sentences are added to it as they are drawn."""
    made: dict[str, int] = {}

    def make(text: str, values: tuple[tuple[str, ...], ...], choice: tuple[int, ...]) -> list[Ref]:
        said = text.format(*(v[c] for v, c in zip(values, choice, strict=True)))
        if said not in made:
            made[said] = vocab.add(said)
        phrase = made[said]
        return [(phrase, i) for i in range(len(vocab.phrases[phrase]))]

    templates = [
        Template(f"t{k}", tuple(len(v) for v in values), partial(make, text, values), ordered)
        for k, (text, values, ordered) in enumerate(TEMPLATES)
    ]
    ordinary = [vocab.add(s) for s in SENTENCES]
    return TalkBank(
        vocab.phrases,
        templates,
        [[(p, i) for i in range(len(vocab.phrases[p]))] for p in ordinary],
        [vocab.add(f) for f in FILLERS],
        [vocab.add(c) for c in CUES],
    )


def plan(seed: int) -> tuple[Talk, Vocabulary, dict[str, object]]:
    """The talk, phrase table and rendering choices of one seed (pure: no files)."""
    rng = random.Random(f"{SET}-{seed}")
    vocab = Vocabulary()
    talk = draw_talk(rng, bank(vocab), TalkShape())
    meta: dict[str, object] = {
        "set": SET,
        "mode": "unscripted",
        "seed": seed,
        "talk": VERSION,
        "voice": rng.choice(VOICES),
        "wpm": rng.randint(140, 190),
        "pitch": rng.randint(30, 70),
        "noise_snr_db": round(rng.uniform(15, 30), 1) if rng.random() < 0.3 else None,
        "drift_db": round(rng.uniform(3, 6), 1) if rng.random() < 0.25 else None,
        "drift_period_s": round(rng.uniform(8, 30), 1),
        "video": rng.random() < 0.15,
        "colour": rng.choice(COLOURS),
        "jitter_seed": rng.getrandbits(32),
        "templates": talk.templates,
        **talk.stats,
    }
    return talk, vocab, meta


def clip_dir(seed: int) -> Path:
    return CACHE / f"t{VERSION}" / str(seed)


def generate(seed: int) -> Clip:
    """The clip of ``seed``, from the cache or made now."""
    folder = clip_dir(seed)
    truth_path = folder / "truth.json"
    if truth_path.exists():
        truth = Truth.load(truth_path)
        return Clip(seed, folder / str(truth.meta["media"]), truth)
    talk, vocab, meta = plan(seed)
    check_talk(talk, vocab.phrases)
    folder.mkdir(parents=True, exist_ok=True)
    jitter = random.Random(int(str(meta["jitter_seed"])))
    base = Voice(str(meta["voice"]), int(str(meta["wpm"])), int(str(meta["pitch"])))
    with tempfile.TemporaryDirectory(prefix="cuttalk-") as tmp:
        work = Path(tmp)
        pieces: list[Samples] = []
        for step in talk.steps:
            if step.kind == "sil":
                pieces.append(np.zeros(round(step.seconds * RATE), dtype=np.float32))
                continue
            text = " ".join(vocab.phrases[p][i] for p, i in step.refs)
            if step.label == FILLER:
                voice = Voice(base.name, jitter.randint(90, 130), base.pitch)
            else:
                voice = Voice(base.name, base.wpm + jitter.randint(-8, 8),
                              min(99, max(0, base.pitch + jitter.randint(-4, 4))))  # fmt: skip
            pieces.append(speak(text, voice, work))
        texts = [" ".join(vocab.phrases[p][i] for p, i in s.refs) for s in talk.steps]
        script = [" ".join(vocab.phrases[p][i] for p, i in s) for s in talk.sentences]
        truth = assemble(talk.steps, texts, pieces, script, [], meta)
        samples = stress(np.concatenate(pieces), truth, seed)
        wav = folder / "clip.wav"
        write_wav(wav, samples)
        if meta["video"]:
            to_video(wav, folder / "clip.mp4", str(meta["colour"]))
            wav.unlink()
            truth.meta["media"] = "clip.mp4"
        else:
            truth.meta["media"] = "clip.wav"
    check_truth(truth)
    truth.save(truth_path)
    return Clip(seed, folder / str(truth.meta["media"]), truth)
