"""Unscripted talks in recorded human speech (set ``human-talk``): talk.py's layout spliced from
the human set's recordings (human.py: LibriVox, meeting speech, pocketsphinx's test phrases,
the Beckett reading; force-aligned word by word).

The talks' sentences are the recordings' own phrases, and template variants made by splicing
recorded words into them (each template below names its words as ``source:index``):

- cards, "<rank> of <suit>": the cards speaker's ten, four, seven, eight, five and queen, with
  "of clubs", "of spades" or "of hearts" (18 variants; the six that were said as such,
  "eight of spades" etc., are the recording itself, the others join a rank to a suit recorded
  apart);
- "go forward <n> meters": the goforward recording with its "ten" or a number of the cards
  recordings (another recording, likely another speaker) in its place (5);
- the LibriVox reader's sentences with one or two words from his other sentences in place:
  "he was not an ill disposed / a cold hearted / a selfish / an amiable / a respectable young
  man / woman" (10), "he might even have been made amiable / respectable / selfish / cold
  hearted / ill disposed himself" (5), "unless to be rather cold hearted and rather selfish is
  to be ill disposed / amiable / respectable" (3), "had he married ... still more respectable /
  selfish / amiable than he was" (3);
- the meeting speaker: "how easy / hard we want to make it for people to bleep things out" and
  "morgan wants to make it hard / easy" (2 each); "go somewhere / forward and do something" (2).

Ordinary sentences: the rest of the material (lv870, the two Beckett lines, chan3b, "feels like
these days go on forever", "yeah we had a long discussion about"): 56 distinct sentences in all.
Each of them spliced and transcribed alone by Whisper base (t3) is heard as labelled but for 13
one-word slips of the recogniser: "clubs" as "cloves"/"close"/"clothes", the spliced 50 ms "a"
as "the", the reader's doubled "a more a amiable" as one "a". The Beckett line is read "Try
again. Fail again. Fail better." with pauses: deliberate repetition, which a restart rule that
looks only at the words takes for false starts.

What this set can represent: human voices and their own prosody; template neighbours that
differ in one or two real recorded words (lists of cards, numbers in an instruction, adjectives
in a sentence frame), in the same proportion to restarts as the synthetic talks. What it cannot:
a real restart (a false start is the sentence's recording cut at a word boundary, so it ends on
the whole sentence's intonation; a retake is the *same* recording played again, which a
recogniser hears identically, while a real retake differs); the splices' joins (a spliced word
keeps its own level, room and pitch, and the cards' numbers are another speaker's); pauses
other than the recordings' own inner ones and the layout's digital silence; fillers and restart
cues in a human voice (the one recorded "uh" and espeak-ng's en-us, as in the human set; cues
are espeak-ng, truth ``meta["cues"]``); and variety: the talks draw from 56 sentences, so seeds
share much material, and the sentences come from unrelated sources, so a talk does not make
sense as a talk (the engine does not use meaning).

Clips are cached under ``.cache/human-talk/t<VERSION>/<seed>/``.
"""

from __future__ import annotations

import random
import tempfile
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np
from audio import RATE, Samples, write_wav
from human import ESPEAK_FILLERS, PHRASES, SOURCES, _material, _spoken
from layout import Ref
from talk import (
    Talk,
    TalkBank,
    TalkShape,
    Template,
    check_talk,
    check_truth,
    draw_talk,
    words_of,
)
from truth import CHATTER, FILLER, GAP, Event, Truth

VERSION = 3  # 3: words at a recording's start kept (human.VERSION 5: "ten", "five", "feels")
SET = "human-talk"
HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / SET

CUES = ("sorry", "sorry, let me start again", "let me start again", "let me say that again",
        "no, wait")  # fmt: skip

# Templates: slots of alternatives, each alternative a run of "source:first-last" word ranges.
Part = tuple[Any, ...]  # fixed words (strings) or a slot (tuples of strings: alternatives)
_RANKS: dict[str, str] = {"ten": "cards1:0", "four": "cards5:3", "seven": "cards3:0",
                          "eight": "cards5:0", "five": "cards4:0", "queen": "cards2:1"}  # fmt: skip
_SUITS: dict[str, str] = {"clubs": "cards1:1-2", "spades": "cards5:1-2", "hearts": "cards5:7-8"}
# Cards said as such: one recording, no splice.
_CARDS: dict[tuple[str, str], str] = {
    ("ten", "clubs"): "cards1:0-2", ("seven", "clubs"): "cards3:0-2",
    ("queen", "clubs"): "cards2:1-3", ("eight", "spades"): "cards5:0-2",
    ("four", "clubs"): "cards5:3-5", ("seven", "hearts"): "cards5:6-8",
}  # fmt: skip
_ADJECTIVES = {"amiable": "lv930:6", "respectable": "lv920:15", "selfish": "lv890:8",
               "cold hearted": "lv890:4-5", "ill disposed": "lv890:12-13"}  # fmt: skip
TEMPLATES: tuple[tuple[str, tuple[Part, ...]], ...] = (
    ("go forward", (("goforward:0-1",), tuple((_RANKS[n] if n != "ten" else "goforward:2",)
                                             for n in ("ten", "four", "seven", "eight", "five")),
                    ("goforward:3",))),
    ("young man", (("lv880:0-2",), (("lv880:3-5",), ("lv920:3", "lv890:4-5"),
                                    ("lv920:3", "lv890:8"), ("lv880:3", "lv930:6"),
                                    ("lv920:3", "lv920:15")), ("lv880:6",),
                   (("lv880:7",), ("lv920:7",)))),
    ("himself", (("lv930:0-5",), tuple((a,) for a in _ADJECTIVES.values()), ("lv930:7",))),
    ("unless", (("lv890:0-11",), (("lv890:12-13",), ("lv930:6",), ("lv920:15",)))),
    ("married", (("lv920:0-14",), (("lv920:15",), ("lv890:8",), ("lv930:6",)),
                 ("lv920:16-18",))),
    ("how easy", (("chan3a:8",), (("chan3a:9",), ("chan3a:27",)), ("chan3a:10-20",))),
    ("morgan", (("chan3a:22-26",), (("chan3a:27",), ("chan3a:9",)))),
    ("go somewhere", (("something:0",), (("something:1",), ("goforward:1",)),
                      ("something:2-4",))),
)  # fmt: skip
ORDINARY: tuple[str, ...] = ("lv870:0-21", "beckett:0-5", "beckett:6-11", "chan3b:0-8",
                             "forever:0-6", "chan3a:0-6")  # fmt: skip


@cache
def table() -> tuple[list[list[str]], list[str]]:
    """The word table of every talk: human.PHRASES' words (as human.py orders its phrases),
    then espeak-ng fillers and cues; and each phrase's role. Known from the sources' texts, so
    a layout is drawn without the audio."""
    words = {s.name: s.text.split() for s in SOURCES}
    phrases = [words[name][first : None if last is None else last + 1]
               for name, first, last, _ in PHRASES]  # fmt: skip
    roles = [role for *_, role in PHRASES]
    phrases += [[f] for f in ESPEAK_FILLERS]
    roles += ["espeak-filler"] * len(ESPEAK_FILLERS)
    phrases += [c.split() for c in CUES]
    roles += ["cue"] * len(CUES)
    return phrases, roles


def refs(spec: str) -> list[Ref]:
    """``"source:first-last"`` (or ``"source:index"``) as refs into ``table()``."""
    name, _, span = spec.partition(":")
    first, _, last = span.partition("-")
    out = []
    for index in range(int(first), int(last or first) + 1):
        for k, (source, start, end, _) in enumerate(PHRASES):
            if source == name and start <= index and (end is None or index <= end):
                out.append((k, index - start))
                break
        else:
            raise ValueError(f"{name}:{index} is in no phrase")
    return out


def _make(parts: tuple[Part, ...], choice: tuple[int, ...]) -> list[Ref]:
    out: list[Ref] = []
    slot = iter(choice)
    for part in parts:
        alternative = part[next(slot)] if isinstance(part[0], tuple) else part
        for spec in alternative:
            out.extend(refs(spec))
    return out


def _card(choice: tuple[int, int]) -> list[Ref]:
    rank, suit = list(_RANKS)[choice[0]], list(_SUITS)[choice[1]]
    if (rank, suit) in _CARDS:
        return refs(_CARDS[rank, suit])
    return refs(_RANKS[rank]) + refs(_SUITS[suit])


def bank() -> TalkBank:
    phrases, roles = table()
    templates = [Template("cards", (len(_RANKS), len(_SUITS)), _card)]  # type: ignore[arg-type]
    for name, parts in TEMPLATES:
        sizes = tuple(len(p) for p in parts if isinstance(p[0], tuple))
        templates.append(Template(name, sizes, partial(_make, parts)))
    recorded = [i for i, r in enumerate(roles) if r == "filler"]
    # As in human.py: the one recorded filler about as often as all espeak-ng ones together.
    fillers = recorded * len(ESPEAK_FILLERS) + [
        i for i, r in enumerate(roles) if r == "espeak-filler"
    ]
    cues = [i for i, r in enumerate(roles) if r == "cue"]
    return TalkBank(phrases, templates, [refs(s) for s in ORDINARY], fillers, cues)


SHAPE = TalkShape(min_sentences=4, max_sentences=10, sentence_skew=1.2, p_run=0.7)


def plan(seed: int) -> tuple[Talk, dict[str, object]]:
    rng = random.Random(f"{SET}-{seed}")
    talk = draw_talk(rng, bank(), SHAPE)
    meta: dict[str, object] = {
        "set": SET, "mode": "unscripted", "seed": seed, "talk": VERSION, "media": "clip.wav",
        "fillers": "recorded chan3 'uh' + espeak-ng en-us", "cues": "espeak-ng en-us",
        "templates": talk.templates, **talk.stats,
    }  # fmt: skip
    return talk, meta


def clip_dir(seed: int) -> Path:
    return CACHE / f"t{VERSION}" / str(seed)


def generate(seed: int):  # type: ignore[no-untyped-def]  # -> generator.Clip
    from generator import Clip, Voice, speak

    folder = clip_dir(seed)
    truth_path = folder / "truth.json"
    if truth_path.exists():
        return Clip(seed, folder / "clip.wav", Truth.load(truth_path))
    talk, meta = plan(seed)
    words, roles = table()
    check_talk(talk, words)
    audio, phrases = _material()
    recorded = len(phrases)
    jitter = random.Random(seed + 1)
    with tempfile.TemporaryDirectory(prefix="cuthuman-") as tmp:
        synthetic = {
            k: speak(" ".join(words[k]), Voice("en-us", jitter.randint(90, 130) if roles[k]
                     == "espeak-filler" else jitter.randint(150, 180), 50), Path(tmp))
            for k in range(recorded, len(words))
        }  # fmt: skip
    events: list[Event] = []
    pieces: list[Samples] = []
    at = 0

    def add(kind: str, label: str, samples: Samples, **fields: object) -> None:
        nonlocal at
        start, at = at, at + len(samples)
        events.append(Event(start / RATE, at / RATE, kind, label, **fields))  # type: ignore[arg-type]
        pieces.append(samples)

    for step in talk.steps:
        if step.kind == "sil":
            add("sil", step.label, np.zeros(round(step.seconds * RATE), dtype=np.float32))
            continue
        first = step.refs[0][0]
        if first >= recorded:  # espeak-ng: a filler or a restart cue
            add("say", step.label, synthetic[first], text=" ".join(words_of(words, step.refs)),
                variant="espeak" if step.label == FILLER else step.variant)  # fmt: skip
            continue
        if step.label == FILLER:
            add("say", FILLER, _spoken(step.refs, phrases, audio)[0][1], text="uh",
                variant="recorded")  # fmt: skip
            continue
        for kind, samples, text in _spoken(step.refs, phrases, audio):
            if kind == "sil":
                add("sil", GAP, samples)
            else:
                add("say", step.label, samples, text=text, script_line=step.script_line,
                    variant=step.variant)  # fmt: skip
    script = [" ".join(words_of(words, s)) for s in talk.sentences]
    truth = Truth(script, events, at / RATE, [], meta)
    check_truth(truth)
    assert all(e.variant == "cue" for e in events if e.label == CHATTER)
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / "clip.wav", np.concatenate(pieces))
    truth.save(truth_path)
    return Clip(seed, folder / "clip.wav", truth)
