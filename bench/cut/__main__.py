#!/usr/bin/env python3
"""The cut engine against baselines on recordings with exact labels, scripted and unscripted.

    .venv/bin/python bench/cut [--seeds 100-199] [--tune 0-29] [--set synthetic|human|both]
                               [--mode scripted|unscripted|both] [--model base|tiny.en]
                               [--jobs N] [--quick] [--self-check]

Sets (sets.py), by voice (``--set``) and mode (``--mode``, default both):

- scripted: ``synthetic`` (espeak-ng clips, generator.py) and ``human`` (recorded human phrases
  from registry packages spliced into the same retake layouts, human.py); the engine gets the
  script;
- unscripted: ``synthetic-talk`` and ``human-talk`` (talks whose neighbouring sentences share
  templates, with restarts, retakes, fillers and pauses: talk.py, talk_synthetic.py,
  talk_human.py); the engine gets no script, and the WER reference is the talk's distinct
  sentences in order.

Seeds 0-99 are for tuning; 100-199 are the reported set. Methods, each scored by metrics.py:

- ``keep-everything``: the recording as it is;
- ``loudness-gate``: auto-editor's default audio edit, re-implemented (baselines.py);
- ``oracle``: the true keep spans (its script WER is the ASR floor);
- ``roughy``: ``transcribe_file`` + ``decide`` with the default CutOptions (engine.py).

Script WER: each cut is rendered with ffmpeg and transcribed by the same Whisper model
(render.py); ``WER Δ`` is the method's WER minus the oracle's. Two markdown tables per set go
to stdout: the methods' scores, then the issue's goals row by row with every method beside
Roughy and whether Roughy meets the goal and beats the loudness gate; everything (per clip too)
goes to ``.cache/results-<set>-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "src"))
import audio  # noqa: E402
import baselines  # noqa: E402
import engine  # noqa: E402
import generator  # noqa: E402
import human  # noqa: E402
import metrics  # noqa: E402
import render  # noqa: E402
import sets  # noqa: E402
from truth import Truth  # noqa: E402

METHODS = ("keep-everything", "loudness-gate", "oracle", "roughy")
CACHE = HERE / ".cache"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed_range(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def clip_for(kind: str, seed: int) -> generator.Clip:
    return sets.clip_for(kind, seed)


def run_clip(kind: str, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """Every method on one clip: scores, WER counts, and Roughy's plan and timings."""
    clip = clip_for(kind, seed)
    truth: Truth = clip.truth
    decoded = CACHE / "decoded" / kind / f"{seed}-{clip.media.stat().st_mtime_ns}.wav"
    if not decoded.exists():
        decoded.parent.mkdir(parents=True, exist_ok=True)
        audio.decode(clip.media, decoded)
    samples = audio.read_wav(decoded)
    spans: dict[str, list[metrics.Span]] = {
        "keep-everything": baselines.keep_everything(truth),
        "loudness-gate": baselines.loudness_gate(samples),
        "oracle": baselines.oracle(truth),
    }
    extra: dict[str, dict[str, Any]] = {}
    if options["engine"]:
        key = f"{kind}-{seed}-{clip.media.stat().st_mtime_ns}"
        script = truth.script_text if sets.scripted(kind) else None
        result = engine.cut(clip.media, key, script, options["model"],
                            options["threads"], not options["fresh"])  # fmt: skip
        spans["roughy"] = result.pop("spans")
        result["engine_version"] = engine.preload()
        extra["roughy"] = result
    out: dict[str, Any] = {"set": kind, "seed": seed, "duration": truth.duration,
                           "meta": truth.meta, "methods": {}}  # fmt: skip
    floor: dict[str, Any] | None = None
    for method in ("oracle", *[m for m in spans if m != "oracle"]):
        score = metrics.score(spans[method], truth)
        score["spans"] = [[round(a, 3), round(b, 3)] for a, b in metrics.normalised(
            spans[method], truth.duration)]  # fmt: skip
        if options["wer"] and (method in ("oracle", "roughy") or seed in options["wer_baselines"]):
            score |= render.script_wer(clip.media, metrics.normalised(spans[method],
                                       truth.duration), truth.said_lines(), options["model"],
                                       options["threads"])  # fmt: skip
            if method == "oracle":
                floor = score
            elif floor is not None:
                score["wer_delta_errors"] = score["wer_errors"] - floor["wer_errors"]
            if method == "oracle":
                score["wer_delta_errors"] = 0
        if method in extra:
            info = extra[method]
            score |= metrics.missing_score(info["missing_lines"], truth)
            score["missing_lines"] = info["missing_lines"]
            score["duration_s"] = info["audio_s"]
            score["transcribe_s"] = info["transcribe_s"]
            score["decide_s"] = info["decide_s"]
            score["pipeline_s"] = info["transcribe_s"] + info["decide_s"]
            score["cached_transcript"] = info["cached"]
            score["engine_version"] = info["engine_version"]
            score["decisions"] = info["decisions"]
            score["words"] = info["words"]
        out["methods"][method] = score
    return out


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(kind: str, summary: dict[str, dict[str, Any]], clips: int) -> str:
    head = ("| method | keep fully kept | keep time recall | filler removed | false start removed"
            " | bad take removed | chatter removed | long silence shortened | pauses shortened "
            "to the setting | kept-time precision | cuts inside speech | output s / ideal s | "
            "script WER (Δ vs oracle) | S / D / I | missing reported | RTF |")  # fmt: skip
    rows = [f"**{kind}** ({clips} clips)", "", head, "|" + "---|" * 16]
    for method, agg in summary.items():
        wer = (f"{fmt(agg.get('wer'), 3)} ({'+' if agg.get('wer_delta', 0) >= 0 else ''}"
               f"{fmt(agg.get('wer_delta'), 3)})") if "wer" in agg else "–"  # fmt: skip
        if "wer" in agg and agg["totals"]["wer_clips"] < clips:
            wer += f" [{int(agg['totals']['wer_clips'])} clips]"
        sdi = (" / ".join(fmt(agg.get(f"wer_{p}"), 3) for p in "sdi")) if "wer" in agg else "–"
        missing = "–"
        if sets.scripted(kind) and (
            agg.get("missing_reported") is not None or agg.get("missing_false")
        ):
            t = agg["totals"]
            missing = (f"{int(t.get('missing_reported', 0))}/{int(t.get('missing_n', 0))}"
                       f" (+{int(t.get('missing_false', 0))} false)")  # fmt: skip
        rows.append(
            f"| {method} | {fmt(agg['keep_fully_kept'])} | {fmt(agg['keep_time_recall'])} | "
            f"{fmt(agg['filler_removed'])} | {fmt(agg['false_start_removed'])} | "
            f"{fmt(agg['bad_take_removed'])} | {fmt(agg['chatter_removed'])} | "
            f"{fmt(agg['long_silence_shortened'])} | {fmt(agg['pause_shortened'])} | "
            f"{fmt(agg['kept_time_precision'])} | "
            f"{agg['cuts_inside_speech']} | {agg['output_s']:.0f} / {agg['ideal_s']:.0f} | "
            f"{wer} | {sdi} | {missing} | {fmt(agg.get('rtf'), 3)} |"
        )
    return "\n".join(rows)


# The goals, scripted and unscripted alike: (row, summary key, goal, higher is better,
# the sets it applies to: "scripted", "unscripted" or "both"; indented rows break one down).
GOALS: tuple[tuple[str, str, tuple[str, float] | None, bool, str], ...] = (
    ("distinct sentences (good takes) kept whole", "keep_fully_kept", (">=", 0.99), True, "both"),
    ("· those in a template run", "template_keep_fully_kept", None, True, "unscripted"),
    ("false starts + retakes removed", "restart_removed", (">=", 0.90), True, "both"),
    ("· false starts removed", "false_start_removed", None, True, "both"),
    ("· retakes removed (wrong-word takes and repeats)", "bad_take_removed", None, True,
     "scripted"),
    ("· whole-sentence retakes removed", "bad_take_removed", None, True, "unscripted"),
    ("· of them complete repeats", "repeat_removed", None, True, "scripted"),
    ("restart cues removed", "cue_removed", None, True, "unscripted"),
    ("chatter removed", "chatter_removed", None, True, "scripted"),
    ("fillers removed", "filler_removed", (">=", 0.95), True, "both"),
    ("long pauses shortened to the setting", "pause_shortened", (">=", 0.95), True, "both"),
    ("long silences (>= 2.5 s) shortened (<= 0.6 s left)", "long_silence_shortened", None, True,
     "both"),
    ("cuts inside speech", "cuts_inside_speech", ("==", 0), False, "both"),
    ("kept-time precision", "kept_time_precision", None, True, "both"),
    ("script WER Δ vs oracle", "wer_delta", None, False, "both"),
    ("whole pipeline × real time (RTF)", "rtf", ("<=", 0.25), False, "both"),
)  # fmt: skip
COUNTED = {
    "keep_fully_kept": (("keep_fully",), ("keep_n",)),
    "template_keep_fully_kept": (("template_keep_fully",), ("template_keep_n",)),
    "restart_removed": (("false_start_removed", "bad_take_removed"),
                        ("false_start_n", "bad_take_n")),
    "false_start_removed": (("false_start_removed",), ("false_start_n",)),
    "bad_take_removed": (("bad_take_removed",), ("bad_take_n",)),
    "repeat_removed": (("repeat_removed",), ("repeat_n",)),
    "cue_removed": (("cue_removed",), ("cue_n",)),
    "chatter_removed": (("chatter_removed",), ("chatter_n",)),
    "filler_removed": (("filler_removed",), ("filler_n",)),
    "pause_shortened": (("pause_shortened",), ("pause_n",)),
    "long_silence_shortened": (("long_silence_shortened",), ("long_silence_n",)),
}  # fmt: skip


def goals(kind: str, summary: dict[str, dict[str, Any]]) -> str:
    """The goals row by row: every method's figure, whether Roughy meets the goal, and whether
    it beats the loudness gate (better, not equal)."""
    methods = list(summary)
    mode = "scripted" if sets.scripted(kind) else "unscripted"
    head = "| row | goal | " + " | ".join(methods) + " | met | beats the gate |"
    rows = [f"**{kind}**: goals (pause limit {metrics.pause_limit():.2f} s)", "", head,
            "|" + "---|" * (len(methods) + 4)]  # fmt: skip

    def value(method: str, key: str) -> Any:
        return summary[method].get(key)

    for label, key, goal, higher, applies in GOALS:
        if applies not in ("both", mode) or all(value(m, key) is None for m in methods):
            continue
        cells = []
        for method in methods:
            v = value(method, key)
            text = fmt(v, 3) if isinstance(v, float) else fmt(v)
            if key in COUNTED and v is not None:
                tot = summary[method]["totals"]
                num, den = (int(sum(tot.get(k, 0) for k in keys)) for keys in COUNTED[key])
                text += f" ({num}/{den})"
            cells.append(text)
        roughy = value("roughy", key) if "roughy" in summary else None
        met = "–"
        if goal is not None and roughy is not None:
            op, bound = goal
            ok = {">=": roughy >= bound, "<=": roughy <= bound, "==": roughy == bound}[op]
            met = "yes" if ok else "**no**"
        gate = value("loudness-gate", key) if "loudness-gate" in summary else None
        beats = "–"
        if roughy is not None and gate is not None:
            better = roughy > gate if higher else roughy < gate
            beats = "tie" if roughy == gate else "yes" if better else "**no**"
        target = f"{goal[0]} {goal[1]}" if goal else "–"
        rows.append(f"| {label} | {target} | " + " | ".join(cells) + f" | {met} | {beats} |")
    return "\n".join(rows)


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="100-199", help="reported seeds (default 100-199)")
    parser.add_argument("--tune", help="tuning seeds instead, e.g. 0-29 (0-99 are for tuning)")
    parser.add_argument(
        "--set",
        choices=("synthetic", "human", "both"),
        default="both",
        help="the voice: espeak-ng, recorded human speech, or both",
    )
    parser.add_argument("--mode", choices=("scripted", "unscripted", "both"), default="both",
                        help="scripted retakes (synthetic, human), unscripted talks "
                        "(synthetic-talk, human-talk), or both (default)")  # fmt: skip
    parser.add_argument("--model", default="base", help="base (default) or tiny.en")
    parser.add_argument("--jobs", type=int, default=1, help="clips in parallel (processes)")
    parser.add_argument("--threads", type=int, help="CPU threads per job (default cores/jobs)")
    parser.add_argument("--quick", action="store_true", help="5 seeds per set: a check")
    parser.add_argument("--fresh", action="store_true", help="transcribe even if cached")
    parser.add_argument("--no-wer", action="store_true", help="skip the renders and WER")
    parser.add_argument("--no-engine", action="store_true", help="baselines only")
    parser.add_argument(
        "--wer-baselines",
        type=int,
        help="render and transcribe keep-everything and the gate for only the first N seeds "
        "(their WER is all insertions and costs most of the run's time)",
    )
    parser.add_argument("--self-check", action="store_true", help="check generator+metrics")
    parser.add_argument("--explain", type=Path, help="Roughy's misses in a results-*.json")
    args = parser.parse_args()
    if args.self_check:
        import selfcheck

        return selfcheck.main()
    if args.explain:
        import explain

        explain.explain(args.explain)
        return 0
    seeds = seed_range(args.tune or args.seeds)
    if args.quick:
        seeds = seeds[:5]
    kinds = sets.kinds(args.set, args.mode)
    use_engine = not args.no_engine and engine.available()
    if not use_engine and not args.no_engine:
        log("roughy.speech.decide / hear not importable: baselines only")
    threads = args.threads or max(1, (os.cpu_count() or 1) // max(1, args.jobs))
    options = {"engine": use_engine, "model": args.model, "threads": threads,
               "fresh": args.fresh, "wer": not args.no_wer,
               "wer_baselines": seeds[: args.wer_baselines] if args.wer_baselines is not None
               else seeds}  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    tables = []
    version = engine.preload() if use_engine else None  # the pools fork with this code
    for kind in kinds:
        began = time.perf_counter()
        log(f"{kind}: generating {len(seeds)} clips")
        if kind in sets.VOICES["human"]:
            human.prepare()
        with ProcessPoolExecutor(max(1, args.jobs)) as pool:
            list(pool.map(clip_for, [kind] * len(seeds), seeds))
            order = sorted(seeds, key=lambda s: -clip_for(kind, s).truth.duration)
            results = []
            for done, result in enumerate(
                pool.map(run_clip, [kind] * len(order), order, [options] * len(order)), 1
            ):
                results.append(result)
                if done % 10 == 0:  # a run cut short still leaves what it measured
                    partial = CACHE / f"results-{kind}-{stamp}.partial.json"
                    partial.write_text(json.dumps({"set": kind, "options": options,
                                                   "clips": results}, default=str))  # fmt: skip
                roughy = result["methods"].get("roughy", {})
                log(
                    f"  [{done}/{len(order)}] seed {result['seed']} {result['duration']:.0f} s"
                    + (
                        f" keep {roughy['keep_fully']}/{roughy['keep_n']}"
                        f" cuts-in-speech {roughy['cuts_inside_speech']}"
                        if roughy
                        else ""
                    )
                )
        results.sort(key=lambda r: r["seed"])
        methods = [m for m in METHODS if all(m in r["methods"] for r in results)]
        summary = {m: metrics.aggregate([r["methods"][m] for r in results]) for m in methods}
        text = table(kind, summary, len(results)) + "\n\n" + goals(kind, summary)
        tables.append(text)
        print(text + "\n", flush=True)
        record = {
            "set": kind, "mode": "scripted" if sets.scripted(kind) else "unscripted",
            "set_version": sets.VERSIONS[kind], "seeds": seeds, "tuning": bool(args.tune),
            "options": options,
            "engine_version": version,
            "engine_changed_during_run": use_engine and engine.engine_version() != version,
            "generator_version": generator.GENERATOR_VERSION, "human_version": human.VERSION,
            "machine": machine(), "date": stamp, "wall_s": time.perf_counter() - began,
            "summary": summary, "table": text, "clips": results,
        }  # fmt: skip
        if record["engine_changed_during_run"]:
            log(
                f"note: src/roughy/speech changed on disk during the run; every clip used the "
                f"engine loaded at its start ({version})"
            )
        path = CACHE / f"results-{kind}-{stamp}.json"
        path.write_text(json.dumps(record, indent=1, default=str))
        log(f"{kind}: {time.perf_counter() - began:.0f} s, results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
