"""Checks of the bench itself (``python bench/cut --self-check``; tests/test_bench_cut.py).

The metrics on hand-made truths, the loudness gate on a made-up signal, the layouts' labels on
many seeds (no synthesis), scripted and unscripted (both voices: the human talks' words are
known from the sources' texts), the baselines on the talks' stand-in truths, and one small
generated clip against its own truth.
"""

from __future__ import annotations

import random
import shutil

import numpy as np
from audio import RATE
from baselines import keep_everything, loudness_gate, oracle
from generator import Vocabulary, plan
from layout import Shape, draw
from metrics import aggregate, pause_limit, score
from render import wer_counts
from truth import BAD_TAKE, FALSE_START, FILLER, GAP, KEEP, LONG_SILENCE, Event, Truth

from roughy.speech.types import CutOptions


def toy_truth() -> Truth:
    events = [
        Event(0.0, 1.0, "sil", "drop"),
        Event(1.0, 2.0, "say", FALSE_START, "the cat", 1),
        Event(2.0, 5.0, "sil", LONG_SILENCE),
        Event(5.0, 7.0, "say", KEEP, "the cat sat", 1),
        Event(7.0, 7.2, "sil", GAP),
        Event(7.2, 7.6, "say", FILLER, "um"),
        Event(7.6, 7.8, "sil", GAP),
        Event(7.8, 9.0, "say", KEEP, "on the mat", 1),
        Event(9.0, 10.0, "sil", "drop"),
    ]
    return Truth(["the cat sat on the mat", "never said"], events, 10.0, [2])


def check_metrics() -> None:
    truth = toy_truth()
    perfect = aggregate([score(oracle(truth), truth)])
    assert perfect["keep_fully_kept"] == 1.0 and perfect["kept_time_precision"] == 1.0
    assert perfect["filler_removed"] == 1.0 and perfect["false_start_removed"] == 1.0
    assert perfect["long_silence_shortened"] == 1.0 and perfect["cuts_inside_speech"] == 0
    everything = aggregate([score(keep_everything(truth), truth)])
    assert everything["filler_removed"] == 0.0 and everything["long_silence_shortened"] == 0.0
    # Good: 0-1, keeps ±0.12 s joined with the gaps (4.88-7.2, 7.6-9.12), 9-10.
    assert abs(everything["kept_time_precision"] - (1 + 2.32 + 2.4) / 10) < 1e-9
    # A cut 0.3 s into the keep take: clipped, and an audible cut inside speech.
    clipped = score([(5.3, 7.0), (7.8, 9.0)], truth)
    assert clipped["keep_fully"] == 1 and clipped["cuts_inside_speech"] == 1
    # A residue of 50 ms of the filler still counts as removed; 100 ms does not.
    assert score([(5.0, 7.25), (7.8, 9.0)], truth)["filler_removed"] == 1
    assert score([(5.0, 7.3), (7.8, 9.0)], truth)["filler_removed"] == 0
    # 0.6 s of a long silence left is shortened; 0.7 s is not.
    assert score([(1.0, 2.6), (5.0, 9.0)], truth)["long_silence_shortened"] == 1
    assert score([(1.0, 2.7), (5.0, 9.0)], truth)["long_silence_shortened"] == 0
    counts = wer_counts(["the cat sat on the mat"], "the cat sat on the the mat")
    assert (counts["wer_s"], counts["wer_d"], counts["wer_i"]) == (0, 0, 1)
    assert wer_counts(["it's 20 percent"], "It's twenty percent.")["wer_errors"] == 0


def check_pauses() -> None:
    """Pauses shortened to the setting: counted when longer than the limit, joined across
    removed speech, ended by kept speech."""
    limit = pause_limit()
    options = CutOptions()
    assert abs(limit - (options.max_pause + 0.05 + 2 * options.snap_window)) < 1e-9
    events = [
        Event(0.0, 1.0, "say", KEEP, "one", 1),
        Event(1.0, 2.0, "sil", "drop"),  # a pause of 1 s between two keep takes
        Event(2.0, 3.0, "say", KEEP, "two", 2),
        Event(3.0, 3.6, "sil", "drop"),
        Event(3.6, 3.9, "say", FILLER, "um"),
        Event(3.9, 4.5, "sil", "drop"),  # 0.6 + um + 0.6
        Event(4.5, 5.5, "say", KEEP, "three", 3),
        Event(5.5, 5.8, "sil", GAP),  # too short to count
        Event(5.8, 6.5, "say", KEEP, "four", 4),
        Event(6.5, 9.5, "sil", LONG_SILENCE),  # after the last keep: not between kept speech
    ]
    truth = Truth(["one", "two", "three", "four"], events, 9.5)
    everything = score([(0.0, 9.5)], truth)
    assert (everything["pause_n"], everything["pause_shortened"]) == (3, 0)
    whole = score([(0.0, 3.0), (4.5, 6.5)], truth)  # the 1 s pause kept whole
    assert whole["pause_shortened"] == 2 and whole["pause_left"][0]["start"] == 1.0
    perfect = score([(0.0, 1.2), (1.8, 3.1), (4.4, 6.5)], truth)
    assert perfect["pause_shortened"] == 3 and perfect["filler_removed"] == 1
    # The filler removed, 0.3 s of each silence kept: one pause of 0.6 s, too long twice.
    joined = score([(0.0, 1.2), (1.8, 3.3), (4.2, 6.5)], truth)
    assert joined["pause_shortened"] == 1 and joined["filler_removed"] == 1
    # The filler kept: two pauses of 0.3 s, both short (the filler is counted on its own).
    kept = score([(0.0, 1.2), (1.8, 3.3), (3.6, 3.9), (4.2, 6.5)], truth)
    assert kept["pause_shortened"] == 3 and kept["filler_removed"] == 0
    # Exactly the limit left is shortened; 10 ms more is not.
    edge = round(limit, 3)
    assert score([(0.0, 1.0 + edge), (2.0, 9.5)], truth)["pause_left"][0]["start"] == 3.0
    assert score([(0.0, 1.0 + edge), (2.0, 3.0), (4.5, 6.5)], truth)["pause_shortened"] == 3
    assert score([(0.0, 1.01 + edge), (2.0, 3.0), (4.5, 6.5)], truth)["pause_shortened"] == 2


def check_talks(seeds: range) -> None:
    """The unscripted layouts of both voices: labels exact (talk.check_talk, check_truth on a
    stand-in truth), neighbours of a run near-duplicates, about as many of them as restarts;
    the oracle perfect and keep-everything removing nothing on every seed."""
    import talk
    import talk_human
    import talk_synthetic

    def synthetic(seed: int) -> tuple[talk.Talk, list[list[str]]]:
        drawn, vocab, _ = talk_synthetic.plan(seed)
        return drawn, vocab.phrases

    def human(seed: int) -> tuple[talk.Talk, list[list[str]]]:
        return talk_human.plan(seed)[0], talk_human.table()[0]

    for name, plan_of in (("synthetic-talk", synthetic), ("human-talk", human)):
        totals: dict[str, int] = {}
        for seed in seeds:
            drawn, words = plan_of(seed)
            talk.check_talk(drawn, words)
            for key, value in drawn.stats.items():
                totals[key] = totals.get(key, 0) + value
            said = [talk.plain(talk.words_of(words, s)) for s in drawn.sentences]
            for k in range(1, len(said)):
                if drawn.runs[k] == drawn.runs[k - 1]:  # a near-duplicate of its neighbour:
                    a, b = set(said[k]), set(said[k - 1])  # half its words shared, or two swapped
                    assert len(a & b) >= max(len(a), len(b)) / 2 or len(a ^ b) <= 4, (name, seed)
            truth = talk.stand_in_truth(drawn, words)
            talk.check_truth(truth)
            best = score(oracle(truth), truth)
            assert best["keep_fully"] == best["keep_n"] > 0, (name, seed)
            assert best["template_keep_fully"] == best["template_keep_n"]
            assert best["pause_shortened"] == best["pause_n"] and best["cuts_inside_speech"] == 0
            for what in ("filler", "false_start", "bad_take", "chatter", "cue"):
                assert best[f"{what}_removed"] == best[f"{what}_n"], (name, seed, what)
            everything = score(keep_everything(truth), truth)
            assert everything["keep_fully"] == everything["keep_n"]
            for what in ("filler", "false_start", "bad_take", "chatter", "cue"):
                assert everything[f"{what}_removed"] == 0, (name, seed, what)
            assert everything["pause_shortened"] == 0 and everything["long_silence_shortened"] == 0
        restarts = totals["false_starts"] + totals["retakes"]
        assert 0.8 <= totals["near_duplicates"] / restarts <= 1.25, (name, totals)
        assert totals["template_sentences"] >= totals["sentences"] / 2, (name, totals)
        assert min(totals[k] for k in ("false_starts", "retakes", "cues", "fillers")) > 0
    # Seeds differ and repeat.
    assert talk_synthetic.plan(1)[0].steps == talk_synthetic.plan(1)[0].steps
    assert talk_synthetic.plan(1)[0].steps != talk_synthetic.plan(2)[0].steps


def check_gate() -> None:
    samples = np.zeros(RATE * 4, dtype=np.float32)
    samples[RATE : 2 * RATE] = 0.5  # one second of sound
    samples[3 * RATE : 3 * RATE + 400] = 0.5  # a 25 ms click: shorter than minclip
    spans = loudness_gate(samples)
    assert len(spans) == 1 and abs(spans[0][0] - 0.8) < 0.04 and abs(spans[0][1] - 2.2) < 0.04


def check_layouts(seeds: range) -> None:
    for seed in seeds:
        layout, vocab, _ = plan(seed)
        assert 3 <= len(layout.script_lines) <= 15
        said = {s.script_line for s in layout.steps if s.label == KEEP}
        expected = set(range(1, len(layout.script_lines) + 1)) - set(layout.missing)
        assert said == expected, seed
        last_keep: dict[int, int] = {}
        for i, step in enumerate(layout.steps):
            if step.label == KEEP and step.script_line is not None:
                last_keep[step.script_line] = i
            text = [vocab.phrases[p][w] for p, w in step.refs]
            line = vocab.phrases[layout.script_lines[step.script_line - 1]] if (
                step.script_line) else None  # fmt: skip
            if step.label == FALSE_START:
                assert line is not None and text == line[: len(text)] and len(text) < len(line)
            if step.label == BAD_TAKE and step.variant != "repeat":
                assert text != line, (seed, text)
            if step.label == BAD_TAKE and step.variant == "repeat":
                assert text == line
        for i, step in enumerate(layout.steps):
            if step.label == BAD_TAKE and step.script_line and step.variant == "repeat":
                assert i < last_keep[step.script_line]  # a correct take is dropped only if
                # the line is said correctly again later
    # Seeds differ and repeat.
    assert plan(1)[0].steps == plan(1)[0].steps and plan(1)[0].steps != plan(2)[0].steps
    vocab = Vocabulary()
    lines = [vocab.add("one two three four five six seven")]
    other = [vocab.add("chatter here")]
    fill = [vocab.add("um")]
    layout = draw(random.Random(5), vocab.phrases, lines, other, fill, vocab.substitute,
                  vocab.insert, Shape(min_lines=1, max_lines=1))  # fmt: skip
    assert layout.script_lines == lines


def check_clip() -> None:
    import tempfile
    from pathlib import Path

    from generator import Voice, speak

    with tempfile.TemporaryDirectory() as tmp:
        samples = speak("Hello there, general reader.", Voice("en-us", 170, 50), Path(tmp))
    assert 0.8 < len(samples) / RATE < 3.0
    assert abs(samples[:40]).max() > 0.0 and abs(samples[-40:]).max() > 0.0


def main() -> int:
    check_metrics()
    check_pauses()
    check_gate()
    check_layouts(range(200))
    check_talks(range(200))
    if shutil.which("espeak-ng") and shutil.which("sox"):
        check_clip()
    print("self-check: ok")
    return 0
