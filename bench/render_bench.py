#!/usr/bin/env python3
"""Render benchmark: Roughy's render engine against a plain hand-written ffmpeg command doing the
same trim and concat, in the same run, alternating (``make bench-render``).

Source: a 10-minute 1080p30 H.264 + AAC recording that says where it came from (numbered
pictures over a moving test pattern, the 1-second sweep of tests/media/timecoded.py as its
sound): a 20-second unit encoded once, repeated by stream copy. Cut: about 150 spans (seeded).
Outputs: 1080p mp4 at ``video_bitrate`` 10 (Mbit/s) and mp3, each by

* Roughy: the engine as the render job runs it (``roughy.media.render.render``, progress and
  stop callbacks asking every half second), in a child Python process with the worker's imports
  (``roughy.jobs``), whose peak RSS is its own (ffmpeg's is reported apart);
* plain: one ffmpeg command, ``trim``/``atrim`` by seconds per span on the input streams and
  ``concat``, the same encoder settings (libx264 veryfast, CRF 20 under the same cap, AAC or
  LAME at the same bitrate), no fades.

Reported: speed (output seconds / wall seconds), Roughy's overhead over plain, the worker's and
ffmpeg's peak RSS, output duration against the cut's kept duration (on the output's frame
grid), the A/V offset at the end (end of video stream minus end of audio stream), SSIM of the
output's first 100 s against the source frames it should hold (ffmpeg ``ssim``, the reference
cut by frame numbers from the source), the sound's sync against the pictures' (sweep), and the
click measure at joins (largest sample step within 8 samples of a join / largest elsewhere).
Then the same cut's mp3 render of a 4 GB, 29-minute 720p recording, to show the worker's
memory does not grow with the source.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
import numpy as np  # noqa: E402

from roughy.media import ffmpeg as encoder  # noqa: E402
from roughy.media import presets  # noqa: E402
from roughy.media.render import Output, Plan, Source, measure, plan  # noqa: E402
from roughy.speech.types import Span  # noqa: E402
from tests.media import timecoded as tc  # noqa: E402

FFMPEG = encoder.binary()
WORKER = """
import json, resource, sys, time
import roughy.jobs  # the worker's imports
from pathlib import Path
from roughy.media import ffmpeg
from roughy.media.render import Output, render
from roughy.speech.types import Span
args = json.loads(sys.argv[1])
spans = [Span(a, b) for a, b in args["spans"]]
asked = []
def stop():
    asked.append(time.monotonic())
    return False
started = time.monotonic()
p = render(Path(args["source"]), spans, Output(**args["output"]), Path(args["target"]),
           ffmpeg=ffmpeg.binary(), on_progress=lambda f: None, should_stop=stop)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(json.dumps({
    "seconds": time.monotonic() - started,
    "self_rss_kib": int(hwm),  # this process's own peak (ru_maxrss would count the fork's)
    "frames": p.frames, "duration": p.duration, "stop_checks": len(asked),
}))
"""


class Peaks:
    """The peak RSS (VmHWM, which starts afresh at exec) of a process and of its descendants,
    sampled from /proc every 0.2 s while it runs: ``getrusage`` would count in the image of
    the parent that forked each child."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.by_name: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            for pid in self._tree(self.pid):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                name = "ffmpeg" if "ffmpeg" in fields.get("Name", "") else "other"
                if pid == self.pid:
                    name = "self"
                kib = int(fields.get("VmHWM", "0 kB").split()[0])
                self.by_name[name] = max(self.by_name.get(name, 0), kib)

    def _tree(self, pid: int) -> list[int]:
        found, todo = [], [pid]
        while todo:
            current = todo.pop()
            found.append(current)
            try:
                kids = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            except OSError:
                continue
            todo += [int(k) for k in kids]
        return found

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        return self.by_name


def run(*args: str) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_source(work: Path, size: str, seconds: int, kbps: int) -> Path:
    """A ``seconds`` recording of numbered pictures over a moving pattern (a 20 s unit repeated
    by stream copy) with one sweep over its whole length as its sound (encoded whole), so that
    the source's own sound and pictures agree to the sample everywhere."""
    unit = work / f"unit-{size}.mp4"
    width = size.split("x")[0]
    bars = tc.video_filter(f"{width}x64", "30", 20)
    run(
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration=20",
        "-f", "lavfi", "-i", bars,
        "-filter_complex", "[0:v][1:v]overlay=0:0[v]", "-map", "[v]",
        "-c:v", "libx264", "-preset", "veryfast", "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k",
        "-bufsize", f"{2 * kbps}k", "-pix_fmt", "yuv420p", "-g", "60",
        "-minrate", f"{kbps}k", "-x264-params", "nal-hrd=cbr", str(unit),
    )  # fmt: skip
    target = work / f"source-{size}-{seconds}.mp4"
    run(
        "-stream_loop", str(seconds // 20 - 1), "-i", str(unit),
        "-f", "lavfi", "-i", tc.audio_filter(seconds),
        "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k",
        "-shortest", str(target),
    )  # fmt: skip
    return target


def make_cut(seconds: float, seed: int = 19) -> list[Span]:
    rng = random.Random(seed)
    spans, at = [], 0.4
    while True:
        length = rng.uniform(1.2, 3.2)
        if at + length > seconds - 0.5:
            return spans
        spans.append(Span(round(at, 3), round(at + length, 3)))
        at += length + rng.uniform(0.4, 1.6)


def roughy(source: Path, spans: list[Span], output: dict[str, Any], target: Path) -> dict[str, Any]:
    args = {
        "source": str(source),
        "spans": [[s.start, s.end] for s in spans],
        "output": output,
        "target": str(target),
    }
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(args)], stdout=subprocess.PIPE, text=True
    )
    peaks = Peaks(child.pid)
    stdout, _ = child.communicate()
    assert child.returncode == 0, "the render failed"
    seen = peaks.stop()
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["wall"] = time.monotonic() - started
    result["ffmpeg_rss_kib"] = seen.get("ffmpeg", 0)
    result["self_rss_kib"] = max(result["self_rss_kib"], seen.get("self", 0))
    return result


def plain_command(source: Path, spans: list[Span], p: Plan, target: Path, graph: Path) -> list[str]:
    """What a person would write: trim/atrim by seconds per span, concat, the same encoders."""
    parts, inputs = [], []
    for i, s in enumerate(spans):
        if p.size is not None:
            parts.append(f"[0:v]trim=start={s.start}:end={s.end},setpts=PTS-STARTPTS[v{i}];")
            inputs.append(f"[v{i}]")
        parts.append(f"[0:a]atrim=start={s.start}:end={s.end},asetpts=PTS-STARTPTS[a{i}];")
        inputs.append(f"[a{i}]")
    video = 1 if p.size is not None else 0
    outs = "[v][a]" if video else "[a]"
    parts.append(f"{''.join(inputs)}concat=n={len(spans)}:v={video}:a=1{outs}")
    graph.write_text("\n".join(parts))
    argv = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(source)]
    argv += ["-/filter_complex", str(graph)]
    if video:
        argv += ["-map", "[v]", "-c:v", "libx264", "-preset", presets.X264_PRESET]
        argv += ["-crf", str(presets.X264_CRF), "-maxrate", f"{p.video_kbps}k"]
        argv += ["-bufsize", f"{2 * (p.video_kbps or 0)}k", "-pix_fmt", "yuv420p"]
    argv += ["-map", "[a]", "-c:a", p.container.audio_codec, "-b:a", f"{p.audio_kbps}k"]
    return [*argv, "-f", p.container.muxer, str(target)]


def plain(argv: list[str]) -> dict[str, Any]:
    """Run the plain command; its wall time and its own peak RSS (wait4)."""
    started = time.monotonic()
    child = subprocess.Popen(argv)
    peaks = Peaks(child.pid)
    assert child.wait() == 0, argv[-1]
    return {"wall": time.monotonic() - started, "ffmpeg_rss_kib": peaks.stop().get("self", 0)}


def streams_end(path: Path) -> tuple[float | None, float]:
    with av.open(str(path)) as c:
        ends = {}
        for s in c.streams:
            if s.duration is not None and s.time_base is not None:
                ends[s.type] = float((s.start_time or 0) * s.time_base + s.duration * s.time_base)
    return ends.get("video"), ends.get("audio", 0.0)


def audio_checks(path: Path, p: Plan) -> dict[str, float]:
    """Click measure at joins and the sound's sync against the frame grid (sweep)."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        rate = stream.sample_rate
        chunks = [f.to_ndarray().astype(np.float64).reshape(len(f.layout.channels), -1)[0]
                  for f in c.decode(stream)]  # fmt: skip
    audio = np.concatenate(chunks)
    joins = [round(x.frames.record_start / p.rate * rate) for x in p.pieces[1:]]
    at_joins = tc.largest_jump(audio, joins, 8)
    inside = tc.inside_jump(audio, joins, 600)
    worst, n = 0.0, 0
    for x in p.pieces:
        start = float(x.frames.record_start / p.rate)
        end = float(x.frames.record_end / p.rate)
        src = float(x.frames.source_start / p.rate)
        for at in (start + 0.1, (start + end) / 2, end - 0.1):
            phase = tc.sweep_phase(audio, rate, at)
            if phase is not None:
                worst = max(worst, tc.circular_gap(phase, (src + at - start) % 1))
                n += 1
    return {
        "click_at_joins": at_joins,
        "largest_step_inside": inside,
        "sync_worst_ms": worst * 1000,
        "sync_points": n,
        "audio_seconds": len(audio) / rate,
    }


def ssim(output: Path, source: Path, p: Plan, work: Path, seconds: float = 100.0) -> float:
    """SSIM of the output's first ``seconds`` against the source frames it should hold."""
    frames = round(seconds * p.rate)
    parts, labels, total = [], [], 0
    pieces = []
    for x in p.pieces:
        if total >= frames:
            break
        pieces.append(x)
        total += x.frames.length
    outs = "".join(f"[s{i}]" for i in range(len(pieces)))
    parts.append(f"[1:v]fps={p.rate}:start_time=0,split={len(pieces)}{outs};")
    for i, x in enumerate(pieces):
        cut = f"trim=start_frame={x.frames.source_start}:end_frame={x.frames.source_end}"
        parts.append(f"[s{i}]{cut},setpts=PTS-STARTPTS[r{i}];")
        labels.append(f"[r{i}]")
    parts.append(f"{''.join(labels)}concat=n={len(pieces)}:v=1:a=0,trim=end_frame={frames}[ref];")
    parts.append(f"[0:v]trim=end_frame={frames},setpts=PTS-STARTPTS[out];[out][ref]ssim")
    graph = work / "ssim.graph"
    graph.write_text("\n".join(parts))
    done = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-i", str(output), "-i", str(source),
         "-/filter_complex", str(graph), "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.findall(r"SSIM .*All:([0-9.]+)", done.stderr)
    return float(found[-1]) if found else float("nan")


def describe(source: Path, spans: list[Span], output: dict[str, Any]) -> Plan:
    measured: Source = measure(source)
    return plan(measured, spans, Output(**output))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-large", action="store_true", help="skip the 4 GB recording")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--roughy-only", action="store_true", help="no plain runs (memory figures alone)"
    )
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": platform.node(),
        "cpus": os.cpu_count(),
        "ffmpeg": FFMPEG.rsplit("/", 1)[-1],
    }
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="roughy-render-bench-") as tmp:
        work = Path(tmp)
        source = make_source(work, "1920x1080", 600, 8000)
        spans = make_cut(600.0)
        kept = sum(s.end - s.start for s in spans)
        report.update(spans=len(spans), kept_seconds=round(kept, 3))
        print(f"source ready; {len(spans)} spans keep {kept:.1f} s", flush=True)
        cases = {"mp4": {"format": "mp4", "video_mbps": 10}, "mp3": {"format": "mp3"}}
        for name, output in cases.items():
            p = describe(source, spans, output)
            ours, theirs = [], []
            for rnd in range(args.rounds):
                order = ["roughy", "plain"] if rnd % 2 == 0 else ["plain", "roughy"]
                if args.roughy_only:
                    order = ["roughy"]
                for who in order:
                    target = work / f"{who}.{name}"
                    if who == "roughy":
                        ours.append(roughy(source, spans, output, target))
                    else:
                        argv = plain_command(source, spans, p, target, work / "plain.graph")
                        theirs.append(plain(argv))
                    last = (ours if who == "roughy" else theirs)[-1]
                    print(f"{name} {who}: {last['wall']:.1f} s", flush=True)
            if args.roughy_only:
                report[name] = memory_row(p, ours[0])
                print(json.dumps(report[name]), flush=True)
                continue
            row = summarise(name, p, ours, theirs, work / f"roughy.{name}", work / f"plain.{name}")
            if name == "mp4":
                row["ssim_first_100s"] = ssim(work / "roughy.mp4", source, p, work)
            report[name] = row
            print(json.dumps(row), flush=True)
        if not args.no_large:
            report["large"] = large(work)
            print(json.dumps(report["large"]), flush=True)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def summarise(name: str, p: Plan, ours: list[dict[str, Any]], theirs: list[dict[str, Any]],
              ours_file: Path, theirs_file: Path) -> dict[str, Any]:  # fmt: skip
    ours_wall = statistics.median(r["wall"] for r in ours)
    theirs_wall = statistics.median(r["wall"] for r in theirs)
    video_end, audio_end = streams_end(ours_file)
    plain_video_end, plain_audio_end = streams_end(theirs_file)
    checks = audio_checks(ours_file, p)
    plain_checks = audio_checks(theirs_file, p)
    return {
        "output_seconds": round(p.duration, 3),
        "roughy_x_realtime": round(p.duration / ours_wall, 3),
        "plain_x_realtime": round(p.duration / theirs_wall, 3),
        "overhead_pct": round(100 * (ours_wall / theirs_wall - 1), 1),
        "worker_rss_mb": round(max(r["self_rss_kib"] for r in ours) / 1024, 1),
        "ffmpeg_rss_mb": round(max(r["ffmpeg_rss_kib"] for r in ours) / 1024, 1),
        "plain_ffmpeg_rss_mb": round(max(r["ffmpeg_rss_kib"] for r in theirs) / 1024, 1),
        "duration_minus_kept_ms": round(
            1000 * ((video_end or checks["audio_seconds"]) - p.duration), 2
        ),
        "av_offset_end_ms": round(1000 * (video_end - audio_end), 2) if video_end else None,
        "plain_av_offset_end_ms": round(1000 * (plain_video_end - plain_audio_end), 2)
        if plain_video_end
        else None,
        "plain_duration_minus_kept_ms": round(
            1000 * ((plain_video_end or plain_checks["audio_seconds"]) - p.duration), 2
        ),
        "frame_ms": round(1000 / float(p.rate), 2),
        "click_at_joins": round(checks["click_at_joins"], 4),
        "largest_step_inside": round(checks["largest_step_inside"], 4),
        "plain_click_at_joins": round(plain_checks["click_at_joins"], 4),
        "sync_worst_ms": round(checks["sync_worst_ms"], 2),
        "plain_sync_worst_ms": round(plain_checks["sync_worst_ms"], 2),
        "stop_checks": ours[0]["stop_checks"],
    }


def memory_row(p: Plan, ours: dict[str, Any]) -> dict[str, Any]:
    return {
        "output_seconds": round(p.duration, 3),
        "x_realtime": round(p.duration / ours["wall"], 3),
        "worker_rss_mb": round(ours["self_rss_kib"] / 1024, 1),
        "ffmpeg_rss_mb": round(ours["ffmpeg_rss_kib"] / 1024, 1),
    }


def large(work: Path) -> dict[str, Any]:
    """The same kind of cut over a 4 GB, 29-minute 720p recording, rendered to mp3."""
    source = make_source(work, "1280x720", 1740, 18000)
    spans = make_cut(1740.0)
    output = {"format": "mp3"}
    p = describe(source, spans, output)
    ours = roughy(source, spans, output, work / "large.mp3")
    return {"source_bytes": source.stat().st_size, "spans": len(spans), **memory_row(p, ours)}


if __name__ == "__main__":
    main()
