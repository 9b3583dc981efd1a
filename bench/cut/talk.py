"""The unscripted layout of a clip, drawn from a seed: a talk of distinct sentences, many of
them in runs that share a template, said with restarts, retakes, fillers and pauses.

A talk is N distinct sentences. Most come in *runs* of 2-5 sentences made from one template
that differ from their neighbour in one or two content words (a slot walked in order, such as
"step one" / "step two" or Monday / Tuesday, and a free slot changed or not; or one or two free
slots changed): lists, schedules, numbered steps, dates and figures. The rest are ordinary
sentences. The speaker then says each sentence with 0-2 failed attempts before it:

- a *false start*: a prefix of the sentence, cut at a word boundary, then a pause, then the
  whole sentence (``drop:false_start``, variant "false_start");
- a *whole-sentence retake*: the sentence said completely, then again exactly
  (``drop:bad_take``, variant "repeat"; the last saying is ``keep``);
- sometimes a restart cue after the attempt ("sorry", "let me start again":
  ``drop:chatter``, variant "cue").

A sentence that differs from its neighbour in a word is new content, so it is always ``keep``
(its keep events carry variant "template" when it is in a run). Fillers come before sentences
and inside them (the keep take split around the filler), a few sentences have a plain pause
inside them (0.45-1.1 s, a ``gap``), and the pauses between sentences are 0.2-0.5 s, 0.5-2 s
(which a cut should shorten to its ``max_pause``) or long silences of 2.5-5 s. The draw is
balanced so that near-duplicate neighbours (a sentence whose predecessor is of the same run)
are about as common as restarts (false starts + retakes): ``stats`` counts both.

Like layout.py, the layout works on phrases (lists of words) and ``(phrase, index)`` refs, so
espeak-ng (talk_synthetic.py) and recorded human words (talk_human.py) speak the same plan.
The truth's ``script`` is the distinct sentences in order (the WER reference); the engine is
called without it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from layout import Ref, Step, _merged, _prefix
from truth import (
    BAD_TAKE,
    CHATTER,
    DROP,
    FALSE_START,
    FILLER,
    GAP,
    KEEP,
    LONG_SILENCE,
    LONG_SILENCE_MIN,
    Event,
    Truth,
    check,
)

TEMPLATE = "template"  # keep events of a sentence in a run of one template
CUE = "cue"  # chatter: a restart cue
REPEAT = "repeat"


@dataclass(frozen=True)
class Template:
    """Sentences of one shape: ``make(choice)`` gives the words of one value per slot."""

    name: str
    sizes: tuple[int, ...]  # values per slot
    make: Callable[[tuple[int, ...]], list[Ref]]
    ordered: int | None = None  # a slot a run walks in order (step one, two, three...)


@dataclass
class TalkBank:
    phrases: list[list[str]]  # the word table refs point into
    templates: list[Template]
    ordinary: list[list[Ref]]  # sentences in no template
    fillers: list[int]  # phrase ids, each a one-word phrase
    cues: list[int]  # phrase ids of restart cues


@dataclass
class TalkShape:
    min_sentences: int = 5
    max_sentences: int = 16
    sentence_skew: float = 1.4  # count = min + span * random() ** skew
    p_run: float = 0.5  # a block of the talk is a template run (else one ordinary sentence)
    run_weights: tuple[float, ...] = (0.4, 0.3, 0.18, 0.12)  # run lengths 2, 3, 4, 5
    attempt_weights: tuple[float, ...] = (0.6, 0.32, 0.08)  # 0, 1, 2 failed attempts
    p_repeat: float = 0.4  # a failed attempt is a whole-sentence retake (else a false start)
    p_cue: float = 0.3  # a restart cue after a failed attempt
    p_filler_before: float = 0.15
    p_filler_inside: float = 0.15  # sentences of 5+ words
    p_inner_pause: float = 0.08  # sentences of 5+ words: a plain pause inside
    pause_weights: tuple[float, ...] = (0.3, 0.55, 0.15)  # 0.2-0.5 s, 0.5-2 s, 2.5-5 s


@dataclass
class Talk:
    sentences: list[list[Ref]]  # the distinct sentences, in order
    templates: list[str | None]  # each sentence's template (None: an ordinary sentence)
    runs: list[int]  # each sentence's block: neighbours of one run share it
    steps: list[Step]
    stats: dict[str, int] = field(default_factory=dict)


def words_of(phrases: Sequence[Sequence[str]], refs: Sequence[Ref]) -> list[str]:
    return [phrases[p][i] for p, i in refs]


def plain(words: Sequence[str]) -> tuple[str, ...]:
    """Words compared as said: lower case, no punctuation."""
    return tuple(w.lower().strip(".,!?;:") for w in words)


def draw_talk(rng: random.Random, bank: TalkBank, shape: TalkShape) -> Talk:
    sentences, templates, runs = _sentences(rng, bank, shape)
    steps: list[Step] = []

    def pause(kind: str = "between") -> None:
        if kind == "short":
            steps.append(Step("sil", DROP, seconds=rng.uniform(0.15, 0.6)))
            return
        if kind == "restart":  # after a false start: mostly short, sometimes a real pause
            steps.append(Step("sil", DROP, seconds=rng.uniform(0.2, 1.2)))
            return
        which = rng.choices(range(3), weights=shape.pause_weights)[0]
        if which == 2:
            steps.append(Step("sil", LONG_SILENCE, seconds=rng.uniform(LONG_SILENCE_MIN, 5.0)))
        else:
            low, high = ((0.2, 0.5), (0.5, 2.0))[which]
            steps.append(Step("sil", DROP, seconds=rng.uniform(low, high)))

    def filler() -> None:
        steps.append(Step("say", FILLER, [(rng.choice(bank.fillers), 0)]))

    pause()
    for number, words in enumerate(sentences, 1):
        variant = TEMPLATE if runs.count(runs[number - 1]) > 1 else None
        failed = rng.choices(range(len(shape.attempt_weights)), weights=shape.attempt_weights)[0]
        for _ in range(failed):
            if rng.random() < shape.p_filler_before:
                filler()
                pause("short")
            if len(words) >= 3 and rng.random() >= shape.p_repeat:
                steps.append(Step("say", FALSE_START, _prefix(list(words), rng),
                                  script_line=number, variant="false_start"))  # fmt: skip
                pause("restart")
            else:
                steps.append(Step("say", BAD_TAKE, list(words), script_line=number,
                                  variant=REPEAT))  # fmt: skip
                pause()
            if rng.random() < shape.p_cue:
                cue = rng.choice(bank.cues)
                steps.append(Step("say", CHATTER, [(cue, i) for i in range(
                    len(bank.phrases[cue]))], variant=CUE))  # fmt: skip
                pause("short")
        if rng.random() < shape.p_filler_before:
            filler()
            pause("short")
        inside = len(words) >= 5 and rng.random() < shape.p_filler_inside
        still = len(words) >= 5 and not inside and rng.random() < shape.p_inner_pause
        if inside or still:
            split = rng.randint(2, len(words) - 2)
            steps.append(Step("say", KEEP, list(words[:split]), script_line=number,
                              variant=variant))  # fmt: skip
            if inside:
                steps.append(Step("sil", GAP, seconds=rng.uniform(0.1, 0.35)))
                filler()
                steps.append(Step("sil", GAP, seconds=rng.uniform(0.1, 0.35)))
            else:
                steps.append(Step("sil", GAP, seconds=rng.uniform(0.45, 1.1)))
            steps.append(Step("say", KEEP, list(words[split:]), script_line=number,
                              variant=variant))  # fmt: skip
        else:
            steps.append(Step("say", KEEP, list(words), script_line=number, variant=variant))
        pause()
    steps = _merged(steps)
    stats = {
        "sentences": len(sentences),
        "template_sentences": sum(runs.count(r) > 1 for r in runs),
        "near_duplicates": sum(
            1 for k in range(1, len(runs)) if runs[k] == runs[k - 1] and templates[k]
        ),
        "false_starts": sum(s.label == FALSE_START for s in steps),
        "retakes": sum(s.label == BAD_TAKE for s in steps),
        "cues": sum(s.label == CHATTER for s in steps),
        "fillers": sum(s.label == FILLER for s in steps),
        "long_silences": sum(s.label == LONG_SILENCE for s in steps),
    }
    return Talk(sentences, templates, runs, steps, stats)


def _sentences(
    rng: random.Random, bank: TalkBank, shape: TalkShape
) -> tuple[list[list[Ref]], list[str | None], list[int]]:
    span = shape.max_sentences - shape.min_sentences + 1
    count = shape.min_sentences + int(span * rng.random() ** shape.sentence_skew)
    templates = rng.sample(bank.templates, len(bank.templates))
    ordinary = rng.sample(bank.ordinary, len(bank.ordinary))
    seen: set[tuple[str, ...]] = set()
    out: list[list[Ref]] = []
    names: list[str | None] = []
    runs: list[int] = []
    block = 0
    while len(out) < count and (templates or ordinary):
        room = count - len(out)
        run: list[list[Ref]] = []
        name: str | None = None
        if templates and (not ordinary or (room >= 2 and rng.random() < shape.p_run)):
            template = templates.pop()
            length = 2 + rng.choices(range(len(shape.run_weights)), shape.run_weights)[0]
            run = walk(template, min(length, room), rng)
            name = template.name
        else:
            run = [ordinary.pop()]
        fresh = [s for s in run if plain(words_of(bank.phrases, s)) not in seen]
        if len(fresh) < len(run):  # a sentence said before: keep the run's head only
            fresh = fresh[:1]
        for sentence in fresh:
            seen.add(plain(words_of(bank.phrases, sentence)))
            out.append(sentence)
            names.append(name)
            runs.append(block)
        block += 1
    return out, names, runs


def walk(template: Template, length: int, rng: random.Random) -> list[list[Ref]]:
    """``length`` distinct sentences of ``template``, each one or two slots from the last (an
    ordered slot always moves one on; then a free slot changes or not)."""
    sizes = template.sizes
    ordered = template.ordered
    if ordered is not None:
        length = min(length, sizes[ordered])
    choice = [rng.randrange(n) for n in sizes]
    if ordered is not None:
        choice[ordered] = rng.randrange(sizes[ordered] - length + 1)
    chosen = [tuple(choice)]
    free = [i for i, n in enumerate(sizes) if i != ordered and n > 1]
    while len(chosen) < length:
        for _ in range(50):
            new = list(chosen[-1])
            if ordered is not None:
                new[ordered] += 1
                changes = rng.choice((0, 1))
            else:
                changes = 1 if len(free) < 2 or rng.random() < 0.65 else 2
            for i in rng.sample(free, min(changes, len(free))):
                new[i] = rng.choice([v for v in range(sizes[i]) if v != new[i]])
            if tuple(new) not in chosen:
                chosen.append(tuple(new))
                break
        else:
            break
    return [template.make(c) for c in chosen]


def check_talk(talk: Talk, phrases: Sequence[Sequence[str]]) -> None:
    """Raise unless the steps label the talk exactly (see the module docstring)."""
    said = [plain(words_of(phrases, s)) for s in talk.sentences]
    if len(set(said)) != len(said):
        raise ValueError("a sentence is said twice in the talk")
    whole = {text: n for n, text in enumerate(said, 1)}
    kept: dict[int, list[str]] = {}
    last_keep: dict[int, int] = {}
    order: list[int] = []
    for k, step in enumerate(talk.steps):
        if step.kind == "sil":
            if step.refs or (step.label == LONG_SILENCE) != (step.seconds >= LONG_SILENCE_MIN):
                raise ValueError(f"step {k}: silence mislabelled: {step}")
            continue
        text = plain(words_of(phrases, step.refs))
        line = step.script_line
        if step.label in (KEEP, FALSE_START, BAD_TAKE) and line is None:
            raise ValueError(f"step {k}: {step.label} with no sentence")
        if (
            text in whole
            and step.label != KEEP
            and not (step.label == BAD_TAKE and whole[text] == line)
        ):
            raise ValueError(f"step {k}: a whole distinct sentence labelled {step.label}")
        if step.label == KEEP:
            assert line is not None
            kept.setdefault(line, []).extend(text)
            last_keep[line] = k
            if not order or order[-1] != line:
                order.append(line)
            run = talk.runs[line - 1]
            if (step.variant == TEMPLATE) != (talk.runs.count(run) > 1):
                raise ValueError(f"step {k}: template variant {step.variant}")
        elif step.label == FALSE_START:
            assert line is not None
            if not (len(text) < len(said[line - 1]) and said[line - 1][: len(text)] == text):
                raise ValueError(f"step {k}: false start {text} not a prefix of its sentence")
        elif step.label == BAD_TAKE:
            assert line is not None
            if step.variant != REPEAT or text != said[line - 1]:
                raise ValueError(f"step {k}: retake not the sentence said again")
        elif step.label == CHATTER:
            if step.variant != CUE:
                raise ValueError(f"step {k}: chatter that is not a restart cue")
        elif step.label != FILLER:
            raise ValueError(f"step {k}: unknown label {step.label}")
    if order != list(range(1, len(said) + 1)):
        raise ValueError(f"keep takes out of order or missing: {order}")
    for n, text in enumerate(said, 1):
        if tuple(kept[n]) != text:
            raise ValueError(f"sentence {n}: keep takes say {kept[n]}, not {text}")
    for k, step in enumerate(talk.steps):  # every attempt comes before its sentence's keep
        if step.label in (FALSE_START, BAD_TAKE):
            assert step.script_line is not None
            if k > last_keep[step.script_line]:
                raise ValueError(f"step {k}: an attempt after its sentence was kept")


def check_truth(truth: Truth) -> None:
    """Raise unless an unscripted truth is contiguous and its labels agree with its script: the
    keep events of each sentence say it, whole, and no drop says a whole distinct sentence but
    a retake of its own."""
    check(truth)
    lines = [plain(line.split()) for line in truth.script]
    kept: dict[int, list[str]] = {}
    for event in truth.events:
        if event.kind != "say":
            continue
        text = plain(event.text.split())
        if event.label == KEEP:
            assert event.script_line is not None
            kept.setdefault(event.script_line, []).extend(text)
        elif text in lines and not (
            event.label == BAD_TAKE and lines.index(text) + 1 == event.script_line
        ):
            raise ValueError(f"a drop says a whole distinct sentence: {event}")
    for n, line in enumerate(lines, 1):
        if tuple(kept.get(n, ())) != line:
            raise ValueError(f"sentence {n}: kept {kept.get(n)} is not {line}")


def stand_in_truth(talk: Talk, phrases: Sequence[Sequence[str]], word_s: float = 0.3) -> Truth:
    """A truth for ``talk`` with every word ``word_s`` long (the metrics' checks: no audio)."""
    events: list[Event] = []
    at = 0.0
    for step in talk.steps:
        seconds = step.seconds if step.kind == "sil" else word_s * len(step.refs)
        events.append(Event(at, at + seconds, "sil" if step.kind == "sil" else "say",
                            step.label, " ".join(words_of(phrases, step.refs)),
                            step.script_line, step.variant))  # fmt: skip
        at += seconds
    script = [" ".join(words_of(phrases, s)) for s in talk.sentences]
    return Truth(script, events, at, [], {"mode": "unscripted", **talk.stats})
