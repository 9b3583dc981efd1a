#!/usr/bin/env python3
"""Processing benchmark: how long preparing an asset takes as its file grows, in one run.

Sources are real MP4 recordings (H.264 + AAC, the index at the end as recorders write it),
made by ffmpeg: one 10-second segment is encoded once, then repeated by stream copy up to each
size (default 100 MB and 4 GB). Each is uploaded to a fresh ``roughy serve`` (embedded worker,
SQLite queue) and measured, sizes alternating, ``--reps`` times:

* ``job``: seconds the worker spent on the job (probe in a child process, charge, state change),
  from the worker's ``asset processed`` log line;
* ``end to end``: from the answer to the last PATCH (the asset is ``processing``) until
  ``GET /v1/assets/{id}`` says ``ready``, polled every 10 ms (this includes the queue's pickup);
* ``probe``: the probe alone (the child process that opens the file, reads its index and
  checks the last packets), with the page cache dropped first (root) so that it reads from disk;
* baseline, same run: reading the whole file once, page cache dropped first too: what
  processing would cost if it grew with the file.

Uploads run in the default, durable mode, so no dirty pages are still being written back
while the job runs.

Run ``.venv/bin/python bench/processing_bench.py --help`` (``make bench-processing``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import upload_bench as ub

from roughy.media.probe import probe

SEGMENT_SECONDS = 10
VIDEO_BITRATE = "20M"  # a camera's rate, so that gigabytes are minutes, as in real recordings
DEFAULT_SIZES = (100 * ub.MB, 4 * 10**9)


@dataclass
class Sample:
    size: int
    rep: int
    job_s: float
    end_to_end_s: float
    probe_s: float
    read_whole_s: float
    cold: bool
    state: str
    duration_seconds: float


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_sources(directory: Path, sizes: list[int]) -> dict[int, Path]:
    segment = directory / "segment.mp4"
    ub.log(f"encoding a {SEGMENT_SECONDS} s segment at {VIDEO_BITRATE}bit/s")
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={SEGMENT_SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={SEGMENT_SECONDS}",
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", VIDEO_BITRATE,
        "-maxrate", VIDEO_BITRATE, "-bufsize", "8M", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", str(segment),
    )  # fmt: skip
    per_segment = segment.stat().st_size
    sources = {}
    for size in sizes:
        loops = max(1, math.ceil(size / per_segment))
        path = directory / f"recording-{ub.human_size(size)}.mp4"
        ub.log(f"writing {path.name}: {loops} × {SEGMENT_SECONDS} s by stream copy")
        ffmpeg("-stream_loop", str(loops - 1), "-i", str(segment), "-c", "copy", str(path))
        sources[size] = path
    return sources


def drop_caches() -> bool:
    """Empty the page cache (needs root); False where it cannot."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def time_probe(path: Path) -> float:
    started = time.perf_counter()
    probe(path)
    return time.perf_counter() - started


def read_whole(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb", buffering=0) as f:
        while f.read(8 * ub.MiB):
            pass
    return time.perf_counter() - started


def job_seconds(log_path: Path, asset_id: str) -> float:
    for line in reversed(log_path.read_text(errors="replace").splitlines()):
        if asset_id in line and '"asset processed"' in line:
            return float(json.loads(line)["seconds"])
    raise RuntimeError(f"no 'asset processed' line for {asset_id}")


def measure(server: ub.Server, size: int, rep: int, path: Path) -> Sample:
    source = ub.Source(path=path, size=path.stat().st_size, sha256="")
    ub.warm_page_cache(path)
    with server.client() as client:
        asset_id, url = ub.create_upload(client, source.size)
        sent = ub.upload_single(url, server.key, source)
        if not sent.ok:
            raise RuntimeError(sent.detail)
        started = time.perf_counter()
        while True:
            body = client.get(f"/v1/assets/{asset_id}").json()
            if body["state"] != "processing":
                break
            time.sleep(0.01)
        end_to_end = time.perf_counter() - started
        time.sleep(0.2)  # the log line follows the commit
        job = job_seconds(server.log_path, asset_id)
        client.delete(f"/v1/assets/{asset_id}").raise_for_status()
    stored = server.data_dir / "blobs" / "objects" / asset_id
    while stored.exists():  # the purge job: done before the next measurement
        time.sleep(0.05)
    return Sample(
        size=source.size,
        rep=rep,
        job_s=job,
        end_to_end_s=end_to_end,
        probe_s=math.nan,
        read_whole_s=math.nan,
        cold=False,
        state=body["state"],
        duration_seconds=float(body["duration_seconds"] or 0),
    )


def grant(server: ub.Server, credits: int) -> None:
    env = {**os.environ, "ROUGHY_DATA_DIR": str(server.data_dir)}
    env.pop("ROUGHY_DATABASE_URL", None)
    command = [ub.roughy_executable(), "credits", "grant", "local@roughy.localhost", str(credits)]
    subprocess.run(command, env=env, check=True, capture_output=True)


def render(samples: list[Sample], sizes: list[int]) -> str:
    lines = [
        "| file | media | job s (median, min–max) | end to end s | probe s | read whole file s |",
        "|---|---|---|---|---|---|",
    ]
    medians = {}
    for size in sizes:
        group = [s for s in samples if abs(s.size - size) < size * 0.2]
        job = [s.job_s for s in group]
        e2e = [s.end_to_end_s for s in group]
        read = [s.read_whole_s for s in group]
        probes = [s.probe_s for s in group]
        medians[size] = statistics.median(job)
        media = f"{group[0].duration_seconds / 60:.1f} min, {group[0].state}"
        lines.append(
            f"| {group[0].size / ub.MB:,.0f} MB | {media} | {statistics.median(job):.3f} "
            f"({min(job):.3f}–{max(job):.3f}) | {statistics.median(e2e):.3f} "
            f"| {statistics.median(probes):.3f} | {statistics.median(read):.3f} |"
        )
    small, large = medians[min(sizes)], medians[max(sizes)]
    cache = "dropped" if all(s.cold for s in samples) else "warm (could not drop it)"
    lines.append("")
    reps = len(samples) // len(sizes)
    lines.append(f"Page cache before probe and read: {cache}. Medians of {reps}.")
    lines.append(
        f"Job time ratio, largest ÷ smallest file: **{large / small:.2f}** "
        f"(file size ratio {max(sizes) / min(sizes):.0f})."
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(ub.human_size(s) for s in DEFAULT_SIZES))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary dir")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [ub.parse_size(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="roughy-proc-bench-") as tmp:
        work = Path(tmp)
        sources = make_sources(work, sizes)
        server = ub.start_server(work / "data", work / "server.log", durable=True)
        samples: list[Sample] = []
        try:
            grant(server, 100_000)
            for rep in range(1, args.reps + 1):
                for size in sizes:  # alternating, so drift on the machine hits both alike
                    sample = measure(server, size, rep, sources[size])
                    ub.log(
                        f"{sample.size / ub.MB:,.0f} MB rep {rep}: job {sample.job_s:.3f} s, "
                        f"end to end {sample.end_to_end_s:.3f} s, {sample.state}"
                    )
                    samples.append(sample)
        finally:
            ub.stop_server(server)
        # Second phase, nothing else running: the probe and a whole read, from disk.
        for sample, size in zip(samples, [s for _ in range(args.reps) for s in sizes], strict=True):
            sample.cold = drop_caches()
            sample.probe_s = time_probe(sources[size])
            drop_caches()
            sample.read_whole_s = read_whole(sources[size])
            ub.log(
                f"{sample.size / ub.MB:,.0f} MB rep {sample.rep}: probe {sample.probe_s:.3f} s, "
                f"whole read {sample.read_whole_s:.3f} s"
            )
    table = render(samples, sizes)
    print(table)
    ub.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = ub.RESULTS_DIR / f"processing-{stamp}.json"
    machine: dict[str, Any] = {"cpus": os.cpu_count(), "platform": platform.platform()}
    out.write_text(
        json.dumps(
            {"machine": machine, "samples": [asdict(s) for s in samples], "table": table},
            indent=2,
        )
    )
    (ub.RESULTS_DIR / f"processing-{stamp}.md").write_text(table + "\n")
    ub.log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
