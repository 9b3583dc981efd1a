"""The cut benchmark's own parts (bench/cut): metrics, loudness gate, layouts, one small clip.

Fast (a few seconds): no Whisper, no renders. The benchmark itself is ``python bench/cut``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "cut"
sys.path.insert(0, str(BENCH))

import generator  # noqa: E402
import metrics  # noqa: E402
import selfcheck  # noqa: E402
from baselines import loudness_gate, oracle  # noqa: E402
from truth import KEEP, check  # noqa: E402


def test_metrics_on_hand_made_truths() -> None:
    selfcheck.check_metrics()


def test_loudness_gate() -> None:
    selfcheck.check_gate()


def test_layouts_label_every_line_once() -> None:
    selfcheck.check_layouts(range(200))


def test_a_generated_clip_matches_its_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generator, "CACHE", tmp_path)
    seed = next(s for s in range(100, 200) if generator.plan(s)[2]["video"] is False
                and len(generator.plan(s)[0].script_lines) <= 4)  # fmt: skip
    clip = generator.generate(seed)
    check(clip.truth)
    from audio import RATE, read_wav

    samples = read_wav(clip.media)
    assert abs(len(samples) / RATE - clip.truth.duration) < 1e-3
    for event in clip.truth.events:
        part = samples[round(event.start * RATE) : round(event.end * RATE)]
        if event.kind == "sil" and not clip.truth.meta["noise_snr_db"]:
            assert not part.any()  # exact digital silence
        if event.kind == "say":
            assert abs(part[:160]).max() > 0 and abs(part[-160:]).max() > 0  # tight edges
    # The oracle keeps exactly the keep events; the gate keeps every spoken keep event.
    assert metrics.score(oracle(clip.truth), clip.truth)["keep_fully"] == len(
        [e for e in clip.truth.events if e.label == KEEP]
    )
    gate = metrics.score(loudness_gate(samples), clip.truth)
    assert gate["keep_fully"] == gate["keep_n"]
    # Cached: the second call reads the truth back.
    assert generator.generate(seed).truth == clip.truth


def test_pauses_shortened_to_the_setting() -> None:
    selfcheck.check_pauses()


def test_talk_layouts_label_every_sentence_exactly() -> None:
    selfcheck.check_talks(range(200))


def test_sets_by_voice_and_mode() -> None:
    import sets

    assert sets.kinds("both", "both") == ["synthetic", "human", "synthetic-talk", "human-talk"]
    assert sets.kinds("human", "unscripted") == ["human-talk"]
    assert sets.kinds("synthetic", "scripted") == ["synthetic"]
    assert not sets.scripted("synthetic-talk") and sets.scripted("human")


def test_a_generated_talk_clip_matches_its_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import talk
    import talk_synthetic

    monkeypatch.setattr(talk_synthetic, "CACHE", tmp_path)
    seed = next(s for s in range(100, 200) if talk_synthetic.plan(s)[2]["video"] is False
                and len(talk_synthetic.plan(s)[0].sentences) <= 5)  # fmt: skip
    clip = talk_synthetic.generate(seed)
    talk.check_truth(clip.truth)
    assert clip.truth.missing_lines == [] and clip.truth.meta["mode"] == "unscripted"
    from audio import RATE, read_wav

    samples = read_wav(clip.media)
    assert abs(len(samples) / RATE - clip.truth.duration) < 1e-3
    for event in clip.truth.events:
        part = samples[round(event.start * RATE) : round(event.end * RATE)]
        if event.kind == "sil" and not clip.truth.meta["noise_snr_db"]:
            assert not part.any()
        if event.kind == "say":
            assert abs(part[:160]).max() > 0 and abs(part[-160:]).max() > 0
    best = metrics.score(oracle(clip.truth), clip.truth)
    assert best["keep_fully"] == best["keep_n"] and best["pause_shortened"] == best["pause_n"]
    everything = metrics.score([(0.0, clip.truth.duration)], clip.truth)
    assert everything["false_start_removed"] == everything["bad_take_removed"] == 0
    assert talk_synthetic.generate(seed).truth == clip.truth
