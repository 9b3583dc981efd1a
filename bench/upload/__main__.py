#!/usr/bin/env python3
"""Roughy against the two best open TUS servers, on loopback, in one run (``make bench``).

    .venv/bin/python bench/upload [--rounds 3] [--quick] [--baseline REF] [--kinds ...]

Every measurement starts a fresh server (see servers.py) and measures it alternately with the
others (ours, a peer, ours, a peer; the order reverses every other round) on the same files:
one 2 GiB upload in a single PATCH, the same in 50 MiB PATCHes (tuspy), 8 concurrent 256 MiB
uploads, and 2,000 HEADs on one upload over 16 connections (loads.py). For each: MB/s, the
server process's CPU seconds per GiB (utime + stime, all threads) and peak RSS (VmHWM), HEAD
requests/s with p50/p99, and the sha256 of every stored file against its source. Baselines in
the same rounds: ``dd conv=fdatasync`` and ``dd`` to the page cache of the 2 GiB file, and a raw
receiver (raw_receiver.py) taking the single PATCH.

Before each timed upload, free memory is put in the same state (``FreeMemory("hot")`` from
upload_bench.py: on this VM, pages just handed back to the host cost a fault each).

``--baseline REF`` adds Roughy as it was at commit REF (durable and relaxed) to every round,
so a change is measured against what it changed in the same run; ``--kinds`` picks the servers
(e.g. only ours and the baseline's, without the peers).

The table goes to stdout and, with the raw numbers, to bench/results/peers-<time>.{md,json}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import loads  # noqa: E402
import servers  # noqa: E402
from upload_bench import (  # noqa: E402
    MB,
    FreeMemory,
    GiB,
    MiB,
    Source,
    cpu_seconds,
    human_size,
    make_source,
    memory_mib,
    parse_size,
    warm_page_cache,
)

ROOT = HERE.parent.parent
RESULTS = ROOT / "bench" / "results"
WORKLOADS = ("single", "chunked", "concurrent", "head")
OURS = ("roughy-durable", "roughy-relaxed")
PEERS = ("tus-node", "tuspy")
TARGETS = {"single": 1.0, "chunked": 1.2, "concurrent": 1.0, "head": 2.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Result:
    round: int
    kind: str
    workload: str
    ok: bool = False
    bytes: int = 0
    seconds: float = 0.0
    mbps: float = 0.0
    cpu_s: float = 0.0
    cpu_s_per_gib: float = 0.0
    idle_rss_mib: float = 0.0
    peak_rss_mib: float = 0.0
    sha256_ok: int = 0
    files: int = 0
    head: dict[str, float] = field(default_factory=dict)
    detail: str = ""


@dataclass(frozen=True)
class Plan:
    rounds: int
    big: Source
    part: Source
    first_mib: Source
    parts: int
    chunk: int
    heads: int
    connections: int
    workdir: Path
    memory: FreeMemory


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(8 * MiB):
            digest.update(block)
    return digest.hexdigest()


def measure(plan: Plan, rnd: int, kind: str, workload: str) -> Result:
    result = Result(rnd, kind, workload)
    server = servers.start(kind, plan.workdir, f"r{rnd}-{kind}-{workload}")
    try:
        source = plan.part if workload == "concurrent" else plan.big
        count = plan.parts if workload == "concurrent" else 1
        urls = [server.create(source.size) for _ in range(count)]
        if workload == "head":  # a partial upload, as a resuming client finds it; warmed up
            if not loads.single(urls, plan.first_mib.path, server.auth).ok:
                raise RuntimeError("the first MiB was refused")
            loads.heads(urls[0], server.auth, 500, plan.connections)
        result.idle_rss_mib = memory_mib(server.pid)["VmRSS"]
        if workload != "head":
            plan.memory.prepare(source.size * count)
        cpu_before, started = cpu_seconds(server.pid), time.perf_counter()
        if workload == "head":
            result.head = loads.heads(urls[0], server.auth, plan.heads, plan.connections)
            sent = loads.Sent(result.head["failures"] == 0, f"{result.head['failures']} failed")
        elif workload == "chunked":
            sent = loads.chunked(urls[0], source.path, server.auth, plan.chunk)
        else:
            sent = loads.single(urls, source.path, server.auth)
        result.seconds = time.perf_counter() - started
        result.cpu_s = cpu_seconds(server.pid) - cpu_before
        result.peak_rss_mib = memory_mib(server.pid)["VmHWM"]
        result.detail = sent.detail
        if workload != "head":
            result.bytes = source.size * count
            result.mbps = result.bytes / MB / result.seconds
            result.cpu_s_per_gib = result.cpu_s / (result.bytes / GiB)
            result.files = count
            result.sha256_ok = sum(sha256(server.stored(u)) == source.sha256 for u in urls)
        result.ok = sent.ok and result.sha256_ok == result.files
    except Exception as exc:  # one failed measurement is reported, the run goes on
        result.detail = f"{result.detail} {exc!r}".strip()
        log(server.log_tail())
    finally:
        servers.stop(server)
        shutil.rmtree(server.data_dir, ignore_errors=True)
        os.sync()
        plan.memory.freed()
    return result


def dd(plan: Plan, rnd: int, durable: bool) -> Result:
    kind = "dd conv=fdatasync" if durable else "dd (page cache)"
    out = plan.workdir / "dd.out"
    command = ["dd", f"if={plan.big.path}", f"of={out}", "bs=8M"]
    plan.memory.prepare(plan.big.size)
    started = time.perf_counter()
    subprocess.run([*command, *(["conv=fdatasync"] if durable else [])], check=True,
                   capture_output=True)  # fmt: skip
    seconds = time.perf_counter() - started
    out.unlink()
    os.sync()
    plan.memory.freed()
    size = plan.big.size
    return Result(rnd, kind, "single", True, size, seconds, size / MB / seconds)


def run(plan: Plan, kinds: tuple[str, ...]) -> list[Result]:
    results: list[Result] = []
    for rnd in range(1, plan.rounds + 1):
        order = kinds if rnd % 2 else tuple(reversed(kinds))
        results += [dd(plan, rnd, durable=True), dd(plan, rnd, durable=False)]
        results.append(measure(plan, rnd, "raw", "single"))
        for workload in WORKLOADS:
            for kind in order:
                results.append(measure(plan, rnd, kind, workload))
                log(line(results[-1]))
    return results


def line(r: Result) -> str:
    if r.workload == "head" and r.head:
        what = f"{r.head['requests_per_s']:.0f} req/s p99 {r.head['p99_ms']:.1f} ms"
    else:
        what = f"{r.mbps:.0f} MB/s sha {r.sha256_ok}/{r.files}"
    flag = "" if r.ok else f"  FAILED {r.detail}"
    return f"round {r.round} {r.workload:10} {r.kind:15} {what} cpu {r.cpu_s:.2f} s{flag}"


# --------------------------------------------------------------------------------------------
# the summary


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    if not values:
        return "–"
    middle = fmt.format(statistics.median(values))
    return f"{middle} [{fmt.format(min(values))}–{fmt.format(max(values))}]"


def summarise(results: list[Result]) -> dict[tuple[str, str], dict[str, Any]]:
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in results:
        groups[(r.workload, r.kind)].append(r)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for key, group in groups.items():
        good = [r for r in group if r.ok]
        rows[key] = {
            "runs": len(group),
            "ok": len(good),
            "mbps": [r.mbps for r in good],
            "cpu_s_per_gib": [r.cpu_s_per_gib for r in good],
            "cpu_us_per_head": [r.cpu_s / r.head["requests"] * 1e6 for r in good if r.head],
            "peak_rss_mib": max((r.peak_rss_mib for r in group), default=0.0),
            "idle_rss_mib": max((r.idle_rss_mib for r in group), default=0.0),
            "rps": [r.head["requests_per_s"] for r in good if r.head],
            "p50": [r.head["p50_ms"] for r in good if r.head],
            "p99": [r.head["p99_ms"] for r in good if r.head],
            "sha": (sum(r.sha256_ok for r in group), sum(r.files for r in group)),
        }
    return rows


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def targets(rows: dict[tuple[str, str], dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for the issue's targets; ratios against the best peer."""
    out: list[tuple[str, str, bool]] = []
    for workload, wanted in TARGETS.items():
        measure_of = "rps" if workload == "head" else "mbps"
        ours = median(rows.get((workload, "roughy-relaxed"), {}).get(measure_of, []))
        peers = {k: median(rows.get((workload, k), {}).get(measure_of, [])) for k in PEERS}
        best_kind = max(peers, key=lambda k: peers[k])
        best = peers[best_kind]
        if best:
            ratio = ours / best
            out.append((f"{workload}: relaxed ≥ {wanted:.1f}× best peer ({best_kind})",
                        f"{ratio:.2f}×", ratio >= wanted))  # fmt: skip
        for mode in ("durable", "relaxed"):
            now = median(rows.get((workload, f"roughy-{mode}"), {}).get(measure_of, []))
            then = median(rows.get((workload, f"baseline-{mode}"), {}).get(measure_of, []))
            if now and then:  # "no regression": within the noise of one run (5 %)
                out.append((f"{workload}: {mode} ≥ 0.95× the baseline", f"{now / then:.2f}×",
                            now / then >= 0.95))  # fmt: skip
    for kind in OURS:
        p99 = median(rows.get(("head", kind), {}).get("p99", []))
        if p99:
            out.append((f"HEAD p99 ≤ 10 ms ({kind})", f"{p99:.1f} ms", p99 <= 10))
    cpu = max(median(rows[(w, k)]["cpu_s_per_gib"]) for w in WORKLOADS[:3] for k in OURS
              if (w, k) in rows)  # fmt: skip
    out.append(("server CPU ≤ 2.5 s per GiB (ours, worst row)", f"{cpu:.2f} s", cpu <= 2.5))
    rss = max(rows[(w, k)]["peak_rss_mib"] for w in WORKLOADS for k in OURS if (w, k) in rows)
    out.append(("API peak RSS ≤ 100 MB (ours, every row)", f"{rss * MiB / MB:.0f} MB",
                rss * MiB / MB <= 100))  # fmt: skip
    durable = median(rows.get(("single", "roughy-durable"), {}).get("mbps", []))
    fdatasync = median(rows.get(("single", "dd conv=fdatasync"), {}).get("mbps", []))
    if durable and fdatasync:
        ratio = durable / fdatasync
        out.append(("durable single ≥ 0.9× dd conv=fdatasync", f"{ratio:.2f}×", ratio >= 0.9))
    return out


def render(plan: Plan, results: list[Result], env: dict[str, str]) -> str:
    rows = summarise(results)
    kinds = ("roughy-durable", "roughy-relaxed", *servers.BASELINE_KINDS, *PEERS, "raw",
             "dd conv=fdatasync", "dd (page cache)")  # fmt: skip
    head = ["| server | 1 PATCH 2 GiB MB/s | 50 MiB chunks MB/s | 8×256 MiB concurrent MB/s "
            "| CPU s/GiB (1 / chunks / 8) | peak RSS MiB (1 / chunks / 8 / HEAD) [idle] "
            "| HEAD req/s | HEAD p50 / p99 ms | HEAD CPU µs/req | sha256 OK |",
            "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    lines = [
        f"{human_size(plan.big.size)} file, {plan.parts}×{human_size(plan.part.size)} concurrent, "
        f"{plan.heads} HEADs over {plan.connections} connections; {plan.rounds} rounds, "
        "median [min–max].",
        "",
        *head,
    ]
    for kind in kinds:
        cells = [rows.get((w, kind)) for w in WORKLOADS]
        if not any(cells):
            continue
        mbps = [spread(c["mbps"]) if c else "–" for c in cells[:3]]
        cpu = " / ".join(f"{median(c['cpu_s_per_gib']):.2f}" if c else "–" for c in cells[:3])
        rss = " / ".join(f"{c['peak_rss_mib']:.0f}" if c else "–" for c in cells)
        idle = max((c["idle_rss_mib"] for c in cells if c), default=0)
        h = cells[3]
        rps = spread(h["rps"]) if h else "–"
        lat = f"{median(h['p50']):.1f} / {median(h['p99']):.1f}" if h else "–"
        per = f"{median(h['cpu_us_per_head']):.0f}" if h else "–"
        sha = [c["sha"] for c in cells[:3] if c and c["sha"][1]]
        ok = f"{sum(a for a, _ in sha)}/{sum(b for _, b in sha)}" if sha else "–"
        name = f"**{kind}**" if kind in OURS else kind
        lines.append(f"| {name} | {' | '.join(mbps)} | {cpu} | {rss} [{idle:.0f}] | {rps} "
                     f"| {lat} | {per} | {ok} |")  # fmt: skip
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {'yes' if ok else '**no**'} |" for t, m, ok in targets(rows)]
    failed = [r for r in results if not r.ok]
    if failed:
        lines += ["", "Failed measurements:", *(f"- {line(r)}" for r in failed)]
    lines += ["", "Machine: " + "; ".join(f"{k}: {v}" for k, v in env.items())]
    return "\n".join(lines)


def environment() -> dict[str, str]:
    def out(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), "?")  # fmt: skip
    return {
        "cpu": f"{os.cpu_count()} × {cpu}",
        "memory": out("sh", "-c", "free -g | awk '/Mem:/{print $2\" GiB\"}'"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": out("node", "--version"),
        "disk": out("sh", "-c", f"df -h {tempfile.gettempdir()} | tail -1"),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def export_src(ref: str, into: Path) -> Path:
    """The ``src/`` of commit ``ref``, exported (no checkout of this tree is touched)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def ensure_peers() -> None:
    peers = servers.PEERS
    if not (peers / "node_modules").exists() or not (peers / ".venv" / "bin" / "uvicorn").exists():
        log("installing the peers (bench/peers/setup.sh)")
        subprocess.run(["bash", str(peers / "setup.sh")], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=parse_size, default=2 * GiB)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--part-size", type=parse_size, default=256 * MiB)
    parser.add_argument("--chunk", type=parse_size, default=50 * MiB)
    parser.add_argument("--heads", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="1 round of small files (a check)")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--baseline", metavar="REF", help="also Roughy at this commit")
    choices = (*servers.KINDS, *servers.BASELINE_KINDS)
    parser.add_argument("--kinds", nargs="+", choices=choices, help="default: ours and the peers")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.size, args.part_size, args.heads = 1, 128 * MiB, 16 * MiB, 500
    kinds = tuple(args.kinds or servers.KINDS)
    if args.baseline and not args.kinds:
        kinds = ("roughy-durable", "baseline-durable", "roughy-relaxed", "baseline-relaxed")
        kinds += tuple(k for k in servers.KINDS if k not in kinds)
    if any(k in PEERS for k in kinds):
        ensure_peers()
    workdir = Path(tempfile.mkdtemp(prefix="roughy-peers-", dir=args.workdir))
    try:
        if args.baseline:
            servers.baseline_src = export_src(args.baseline, workdir / "baseline")
        big = make_source(workdir, args.size)
        part = make_source(workdir, args.part_size)
        first = workdir / "first-mib.wav"
        with big.path.open("rb") as f:
            first.write_bytes(f.read(MiB))
        first_mib = Source(first, MiB, sha256(first))
        for source in (big, part):
            warm_page_cache(source.path)
        memory = FreeMemory("hot", 0.0, workdir / "scratch")
        plan = Plan(args.rounds, big, part, first_mib, args.parts, args.chunk, args.heads,
                    args.connections, workdir, memory)  # fmt: skip
        results = run(plan, kinds)
        report = render(plan, results, environment())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"peers-{stamp}.md").write_text(report + "\n")
    raw = {"args": {k: str(v) for k, v in vars(args).items()}}
    raw["results"] = [asdict(r) for r in results]
    (RESULTS / f"peers-{stamp}.json").write_text(json.dumps(raw, indent=1))
    log(f"written: bench/results/peers-{stamp}.md and .json")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
