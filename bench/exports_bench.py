#!/usr/bin/env python3
"""Timeline exports: how long each format takes as a cut's segment count grows, in one run.

A cut of N segments (0.25 s kept, 0.15 s dropped, over and over) of a 25 fps video source is
exported to every timeline format with ``roughy.timelines.export_timeline``, as
``GET /v1/cuts/{id}/export`` does. Baseline, same run: the FCPXML adapter called once on the
whole timeline (``fcpxml-one-call``), which is what Roughy did before writing in runs.
Medians of ``--reps`` runs, formats alternating.

    .venv/bin/python bench/exports_bench.py [--counts 100,500,1000,2000] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
import opentimelineio as otio

from roughy.speech.types import Span
from roughy.timelines import SourceMedia, export_timeline
from roughy.timelines.adapters import _FCPX_WRITER_RATE
from roughy.timelines.frames import frame_ranges
from roughy.timelines.timeline import build_timeline

FORMATS = ("otio", "fcpxml", "xmeml", "edl", "json")


def one_call_fcpxml(segments: list[Span], source: SourceMedia) -> None:
    kinds = [otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio]
    timeline = build_timeline(
        frame_ranges(segments, source), source, rate=_FCPX_WRITER_RATE, kinds=kinds
    )
    otio.adapters.write_to_string(timeline, "fcpx_xml")


def seconds(run: Callable[..., object], *args: object) -> float:
    began = time.perf_counter()
    run(*args)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="100,500,1000,2000")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    methods = [*FORMATS, "fcpxml-one-call"]
    print("| segments | " + " | ".join(methods) + " |")
    print("|---" * (len(methods) + 1) + "|")
    for count in counts:
        segments = [Span(i * 0.4, i * 0.4 + 0.25) for i in range(count)]
        source = SourceMedia("talk.mp4", "file:///talk.mp4", count * 0.4 + 1.0, 25.0)
        runs: dict[str, list[float]] = {m: [] for m in methods}
        for _ in range(args.reps):
            for fmt in FORMATS:
                runs[fmt].append(seconds(export_timeline, segments, source, fmt))
            runs["fcpxml-one-call"].append(seconds(one_call_fcpxml, segments, source))
        cells = [f"{statistics.median(runs[m]):.2f} s" for m in methods]
        print(f"| {count} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
