#!/usr/bin/env python3
"""Long recordings: peak memory and time of transcription as the recording grows, in one run.

Each length is transcribed in a fresh child process, whose peak RSS is its ``ru_maxrss``
(``os.wait4``; MB of 10^6 bytes), by two approaches:

* ``windowed``: ``roughy.speech.hear.transcribe.transcribe_file`` as the transcription job
  runs it (the audio decoded once to a temporary file, Whisper a window at a time, alignment
  chunk by chunk from that file, levels on the way, glibc's malloc mapping blocks of 1 MiB and
  more on their own);
* ``whole-file`` (baseline): the code before it, reproduced here (``whole_file``): the whole
  recording decoded into one array, Whisper with its VAD over all of it, the holes decoded
  again, aligned from the array, with the allocator's default settings.

The recordings (``make_recording``) are realistic but cheap to hear: a 30-minute unit of room
tone (pink noise at about -55 dBFS RMS, 48 kHz mono AAC in .m4a) with two stretches of espeak-ng
speech mixed in (about 50 s and 55 s, 305 words), repeated by stream copy to each length. So
the whole pipeline (decode, VAD and windows, Whisper, alignment, levels) runs over every hour,
but Whisper only hears 3.5 minutes of speech an hour. The check at the end: the windowed
transcript has the same number of words per unit at every length.

    .venv/bin/python bench/memory_bench.py                         # 0.5, 2 and 10 hours
    .venv/bin/python bench/memory_bench.py --hours 0.5,2 --model tiny.en
    .venv/bin/python bench/memory_bench.py --compare clip.wav ...   # words before/after

The table goes to stdout, everything to ``bench/results/memory-<time>.json``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
CACHE = RESULTS / "memory-cache"
UNIT_SECONDS = 1800
RATE = 48_000
TONE = "anoisesrc=color=pink:amplitude=0.01:sample_rate=48000"
BLOCKS = (  # (seconds into the unit, text read)
    (
        20,
        "Good morning, and thanks for joining the weekly review. We have three things to "
        "cover today. First, the release went out on Tuesday, a day later than planned, "
        "because the upload tests found a problem with resumed transfers on slow networks. "
        "The fix was small, but we wanted a full day of testing before shipping it. "
        "Second, the support queue is shorter than it has been all year. Most of the "
        "questions last week were about exports, and the new documentation page answered "
        "many of them before anyone had to write back. Third, we are hiring again. There "
        "are two open roles, one for the media pipeline and one for the dashboard, and we "
        "would love your help finding people. If you know someone who enjoys hard problems "
        "with sound and video, send them our way. That is all from me for now.",
    ),
    (
        960,
        "Let me walk you through the numbers from the storage migration. We moved about "
        "forty terabytes over eleven days without taking the service down. Every object was "
        "copied, checked against its hash, and only then switched over. Two objects failed "
        "the check on the first pass; both were copied again and matched. The old cluster "
        "stays read only for another month, in case we need to go back, and then it will be "
        "turned off. Costs dropped by about a third, mostly because the new buckets keep "
        "cold files on cheaper disks. Latency for downloads went up slightly in one region, "
        "and we are looking at a cache in front of it. If you saw slow downloads last "
        "Thursday afternoon, that was the switch in the eastern region, and it should not "
        "happen again. Questions are welcome at the end, or in the channel any time. Now, "
        "on to the roadmap for the next quarter, which has a few surprises in it.",
    ),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], check=True, capture_output=True)


def make_unit(folder: Path) -> Path:
    """The 30-minute unit: room tone with the speech blocks mixed in, AAC in .m4a."""
    unit = folder / "unit-30min.m4a"
    if unit.exists():
        return unit
    folder.mkdir(parents=True, exist_ok=True)
    inputs: list[str | Path] = []
    mixes = []
    for i, (at, text) in enumerate(BLOCKS):
        raw, wav = folder / f"block{i}.raw.wav", folder / f"block{i}.wav"
        run("espeak-ng", "-v", "en-us", "-s", "160", "-w", raw, text)
        run("sox", raw, "-r", str(RATE), "-c", "1", wav, "gain", "-3")
        inputs += ["-i", wav]
        mixes.append(f"[{i + 1}]adelay={at * 1000}[s{i}]")
    graph = ";".join(mixes) + ";[0]" + "".join(f"[s{i}]" for i in range(len(BLOCKS)))
    graph += f"amix=inputs={len(BLOCKS) + 1}:duration=first:normalize=0"
    log(f"making {unit}")
    partial = unit.with_suffix(".part.m4a")
    run(
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"{TONE}:duration={UNIT_SECONDS}",
        *inputs,
        "-filter_complex",
        graph,
        "-c:a",
        "aac",
        "-b:a",
        "96k",
        partial,
    )
    partial.rename(unit)
    return unit


def make_recording(hours: float, folder: Path) -> Path:
    """``hours`` of the unit, repeated by stream copy (the unit itself for half an hour)."""
    unit = make_unit(folder)
    repeats = round(hours * 3600 / UNIT_SECONDS)
    if repeats <= 1:
        return unit
    path = folder / f"recording-{hours:g}h.m4a"
    if not path.exists():
        listing = folder / f"list-{repeats}.txt"
        listing.write_text(f"file '{unit.name}'\n" * repeats)
        log(f"making {path}")
        partial = path.with_suffix(".part.m4a")
        run(
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            listing,
            "-c",
            "copy",
            partial,
        )
        partial.rename(path)
    return path


def whole_file(path: Path, model: str, models_dir: Path, threads: int) -> tuple[Any, Any]:
    """The transcription before windows (commit 5cea74d), for the baseline: the recording as
    one array, Whisper over all of it, holes again, aligned from the array."""
    from roughy.speech.hear.align import ALIGNED_LANGUAGES, align
    from roughy.speech.hear.audio import frame_levels, load_audio
    from roughy.speech.hear.models import model_label, prepare_model
    from roughy.speech.hear.transcribe import _model, _words, unheard_speech
    from roughy.speech.types import SAMPLE_RATE, Transcript

    model_dir = prepare_model(model, models_dir)
    samples = load_audio(path)
    whisper = _model(model_dir, threads)
    options: dict[str, Any] = {
        "beam_size": 5,
        "word_timestamps": True,
        "condition_on_previous_text": False,
    }
    segments, info = whisper.transcribe(samples, language="en", vad_filter=True, **options)
    detected: str = info.language
    words = _words(segments, detected)
    holes = unheard_speech(samples, words)
    if holes:
        again, _ = whisper.transcribe(
            samples, language=detected, clip_timestamps=[t for h in holes for t in h], **options
        )
        words = sorted(words + _words(again, detected), key=lambda w: w.start)
    name = model_label(model_dir)
    if detected in ALIGNED_LANGUAGES and words:
        words = align(samples, words)
        name += "+pocketsphinx"
    transcript = Transcript(detected, len(samples) / SAMPLE_RATE, tuple(words), name)
    return transcript, frame_levels(samples)


def windowed(
    path: Path, model: str, models_dir: Path, threads: int, window: float | None = None
) -> tuple[Any, Any]:
    from roughy.speech.hear.transcribe import WINDOW, transcribe_file

    return transcribe_file(
        path,
        model=model,
        models_dir=models_dir,
        language="en",
        threads=threads,
        scratch=CACHE,
        window=window or WINDOW,
    )


def child(approach: str, path: Path, model: str, threads: int, out: Path) -> None:
    """One transcription, its figures written to ``out`` as JSON."""
    began = time.perf_counter()
    if approach == "windowed":
        transcript, levels = windowed(path, model, CACHE / "models", threads)
    else:
        transcript, levels = whole_file(path, model, CACHE / "models", threads)
    seconds = time.perf_counter() - began
    words = [w for w in transcript.words if w.kind == "word"]
    out.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "audio_s": transcript.duration,
                "words": len(words),
                "fillers": len(transcript.words) - len(words),
                "levels": len(levels),
                "model": transcript.model,
                "text": " ".join(w.text for w in words[:40]),
            }
        )
    )


def measure(approach: str, path: Path, model: str, threads: int) -> dict[str, Any]:
    """``child`` in a fresh process: its figures, peak RSS (MB) and exit status."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            __file__,
            "--child",
            approach,
            "--media",
            str(path),
            "--model",
            model,
            "--threads",
            str(threads),
            "--out",
            out.name,
        ]
        process = subprocess.Popen(command)
        _, status, usage = os.wait4(process.pid, 0)
        figures: dict[str, Any] = json.loads(Path(out.name).read_text() or "{}")
    code = os.waitstatus_to_exitcode(status)
    return figures | {
        "peak_rss_mb": usage.ru_maxrss * 1024 / 10**6,  # MB of 10^6 bytes, as the goal's
        "exit": code,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "",
    )
    memory = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory) / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| recording | approach | peak RSS | wall | CPU | × real time | words | RSS ÷ whole-file |",
        "|---|---|---|---|---|---|---|---|",
    ]
    old = {r["hours"]: r for r in rows if r["approach"] == "whole-file" and r["exit"] == 0}
    for r in rows:
        if r["exit"] != 0:
            lines.append(f"| {r['hours']:g} h | {r['approach']} | failed ({r['exit']}) |||||")
            continue
        ratio = ""
        if r["approach"] == "windowed" and r["hours"] in old:
            ratio = f"{r['peak_rss_mb'] / old[r['hours']]['peak_rss_mb']:.2f}"
        lines.append(
            f"| {r['hours']:g} h | {r['approach']} | {r['peak_rss_mb']:.0f} MB "
            f"| {r['seconds']:.0f} s | {r['cpu_s']:.0f} s | {r['seconds'] / r['audio_s']:.4f} "
            f"| {r['words']} | {ratio} |"
        )
    return "\n".join(lines)


def compare(paths: list[Path], model: str, threads: int, window: float | None) -> int:
    """Whole-file and windowed word lists of each file, and where they differ."""
    for path in paths:
        old, _ = whole_file(path, model, CACHE / "models", threads)
        new, _ = windowed(path, model, CACHE / "models", threads, window)
        said = (
            [w for w in old.words if w.kind == "word"],
            [w for w in new.words if w.kind == "word"],
        )
        a, b = [w.text for w in said[0]], [w.text for w in said[1]]
        matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        moved = sorted(
            max(abs(said[0][m.a + k].start - said[1][m.b + k].start),
                abs(said[0][m.a + k].end - said[1][m.b + k].end))
            for m in matcher.get_matching_blocks()
            for k in range(m.size)
        )  # fmt: skip
        print(
            f"{path}: {old.duration:.0f} s, words {len(a)} -> {len(b)}, same {len(moved)}, "
            f"fillers {len(old.words) - len(a)} -> {len(new.words) - len(b)}; same words' edges "
            f"moved: median {moved[len(moved) // 2] if moved else 0:.3f} s, "
            f"{sum(m > 0.05 for m in moved)} by over 0.05 s"
        )
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op != "equal":
                at = said[0][min(i1, len(a) - 1)].start if a else 0.0
                print(f"  {op} at {at:.1f} s: {' '.join(a[i1:i2])!r} -> {' '.join(b[j1:j2])!r}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", default="0.5,2,10", help="lengths, comma-separated")
    parser.add_argument(
        "--old-hours", default=None, help="lengths the whole-file baseline runs too (default: all)"
    )
    parser.add_argument("--model", default="base", help="base (the default) or tiny.en")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compare", nargs="+", type=Path, help="media files to compare")
    parser.add_argument("--window", type=float, default=None, help="seconds (with --compare)")
    parser.add_argument("--child", choices=("windowed", "whole-file"), help=argparse.SUPPRESS)
    parser.add_argument("--media", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    if args.child:
        child(args.child, args.media, args.model, args.threads, args.out)
        return 0
    if args.compare:
        return compare(args.compare, args.model, args.threads, args.window)
    hours = [float(h) for h in args.hours.split(",")]
    old_hours = (
        hours if args.old_hours is None else [float(h) for h in args.old_hours.split(",") if h]
    )
    from roughy.speech.hear.models import prepare_model

    prepare_model(args.model, CACHE / "models")  # once, outside the measurements
    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    for length in hours:
        path = make_recording(length, CACHE)
        for approach in ("windowed", "whole-file"):
            if approach == "whole-file" and length not in old_hours:
                continue
            log(f"{length:g} h, {approach} ...")
            row = {"hours": length, "approach": approach, "media": path.name}
            row |= measure(approach, path, args.model, args.threads)
            log(
                f"  peak RSS {row['peak_rss_mb']:.0f} MB, {row.get('seconds', 0):.0f} s, "
                f"{row.get('words')} words"
            )
            rows.append(row)
    print(table(rows))
    windowed_rows = [r for r in rows if r["approach"] == "windowed" and r["exit"] == 0]
    per_unit = {r["hours"]: r["words"] / (r["audio_s"] / UNIT_SECONDS) for r in windowed_rows}
    print(f"\nwindowed words per 30-minute unit: {per_unit}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    record = {
        "machine": machine(),
        "model": args.model,
        "threads": args.threads,
        "seconds": time.perf_counter() - began,
        "rows": rows,
        "self_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    (RESULTS / f"memory-{stamp}.json").write_text(json.dumps(record, indent=1))
    print(
        f"machine: {record['machine']}; model {args.model}, {args.threads} threads; "
        f"{record['seconds'] / 60:.1f} min in all"
    )
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
