#!/usr/bin/env python3
"""Upload benchmark: our server against a plain ``dd`` of the same size, in one run.

For every size, mode and workload a *fresh* ``roughy serve`` receives one upload:

* ``single``  - the whole file as one PATCH (``curl -T``, streamed);
* ``chunked`` - 50 MiB PATCHes over one keep-alive connection (``sendfile``, so the client
  costs little CPU).

Right before each server run the matching ``dd`` baseline writes the same source to the same
disk: ``conv=fdatasync`` for durable mode (``ROUGHY_UPLOAD_FSYNC=true``), plain page-cache
writes for relaxed mode (``false``). The ratio server MB/s ÷ dd MB/s is taken per pair.

Server CPU is utime+stime of the server process (all threads) from ``/proc/PID/stat``; peak
RSS is ``VmHWM`` from ``/proc/PID/status`` right after the upload. Each upload is checked
(HEAD offset == length, stored object size, optionally sha256).

Run ``.venv/bin/python bench/upload_bench.py --help`` (``make bench-upload``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"

MB = 10**6
MiB = 1024**2
GiB = 1024**3
BLOCK = 8 * MiB
CHUNK_BYTES = 50 * MiB
DEFAULT_SIZES = (200 * MB, 2 * GiB)
QUICK_SIZE = 64 * MiB

TARGET_RATIO = 0.90  # durable uploads: at least this share of dd conv=fdatasync
RSS_LIMIT_BYTES = 100 * MB  # peak RSS, whatever the file size
RSS_GROWTH_TOLERANCE_MIB = 2.0  # "no growth": allocator noise between sizes stays below this

TUS = {"Tus-Resumable": "1.0.0"}
MODES = {"durable": True, "relaxed": False}  # mode -> ROUGHY_UPLOAD_FSYNC
WORKLOADS = ("single", "chunked")
DD_LABEL = {"durable": "dd conv=fdatasync", "relaxed": "dd (page cache)"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# sizes and source data


def parse_size(text: str) -> int:
    """``200MB``, ``2GiB``, ``64M`` (= MiB), ``1048576``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)\s*", text, re.IGNORECASE)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    number, prefix, suffix = match.groups()
    power = "KMGT".find(prefix.upper()) + 1 if prefix else 0
    binary = suffix.lower() != "b"  # "MB" is decimal; "M" and "MiB" are binary
    value = float(number) * ((1024 if binary else 1000) ** power)
    if value < 64 * 1024:
        raise argparse.ArgumentTypeError(f"size {text!r} is too small (at least 64 KiB)")
    return int(value)


def human_size(size: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    if size % MB == 0:
        return f"{size // MB} MB"
    return f"{size} B"


def wav_header(total: int) -> bytes:
    """A 44-byte PCM WAVE header whose chunk sizes match a file of ``total`` bytes."""
    channels, rate, bits = 2, 48_000, 16
    align = channels * bits // 8
    riff_size = min(total - 8, 0xFFFFFFFF)
    data_size = min(total - 44, 0xFFFFFFFF)
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        riff_size,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        rate,
        rate * align,
        align,
        bits,
        b"data",
        data_size,
    )


@dataclass(frozen=True)
class Source:
    path: Path
    size: int
    sha256: str


def make_source(directory: Path, size: int) -> Source:
    """A WAV header followed by random bytes, ``size`` bytes in all (sha256 computed on the way)."""
    path = directory / f"source-{size}.wav"
    digest = hashlib.sha256()
    started = time.perf_counter()
    with path.open("wb", buffering=0) as f:
        head = wav_header(size)
        f.write(head)
        digest.update(head)
        left = size - len(head)
        while left:
            block = os.urandom(min(BLOCK, left))
            f.write(block)
            digest.update(block)
            left -= len(block)
    log(f"source {human_size(size)}: {path} in {time.perf_counter() - started:.1f} s")
    return Source(path, size, digest.hexdigest())


def warm_page_cache(path: Path) -> None:
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)


# --------------------------------------------------------------------------------------------
# /proc readings


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_cpu(path: str) -> float:
    stat = Path(path).read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, summed over its threads (live and ended) by the kernel."""
    return _stat_cpu(f"/proc/{pid}/stat")


def main_thread_cpu(pid: int) -> float:
    """utime + stime of the main thread alone: uvicorn's event loop."""
    return _stat_cpu(f"/proc/{pid}/task/{pid}/stat")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs from /proc/stat; idle and iowait count as idle."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])  # guest time is already part of user time
    return total - values[3] - values[4], total


def busy_cpus(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How many CPUs were busy on average between two :func:`machine_ticks` readings."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return (os.cpu_count() or 1) * busy / total if total else 0.0


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon, RssFile (MiB) and the thread count."""
    wanted = {"VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"}
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in wanted:
            number = int(value.split()[0])
            out[key] = number if key == "Threads" else round(number / 1024, 1)
    return out


def syscalls(pid: int) -> tuple[int, int]:
    """(read, write) system calls of a process so far, from /proc/PID/io (0, 0 if unreadable)."""
    with contextlib.suppress(OSError):
        fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
        return int(fields["syscr"]), int(fields["syscw"])
    return 0, 0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------------------------
# the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def roughy_executable() -> str:
    beside = Path(sys.executable).with_name("roughy")
    if beside.exists():
        return str(beside)
    found = shutil.which("roughy")
    if found is None:
        raise SystemExit("cannot find the `roughy` command; run with .venv/bin/python")
    return found


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    base_url: str
    key: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


LIVE_SERVERS: list[Server] = []


def start_server(data_dir: Path, log_path: Path, durable: bool) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "ROUGHY_DATA_DIR": str(data_dir),
        "ROUGHY_PORT": str(port),
        "ROUGHY_HOST": "127.0.0.1",
        "ROUGHY_LOG_JSON": "true",
        "ROUGHY_UPLOAD_FSYNC": "true" if durable else "false",
    }
    env.pop("ROUGHY_DATABASE_URL", None)  # default: SQLite in the fresh data dir
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [roughy_executable(), "serve"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on the terminal reaches only the bench
        )
    server = Server(process, data_dir, log_path, f"http://127.0.0.1:{port}")
    LIVE_SERVERS.append(server)
    try:
        wait_healthy(server)
        server.key = (data_dir / "local-api-key").read_text().strip()
    except BaseException:
        stop_server(server)
        raise
    return server


def wait_healthy(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited ({server.process.returncode}):\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {timeout:.0f} s:\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    """SIGTERM by PID, SIGKILL after 15 s; always reaped."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log(f"server {server.pid} ignored SIGTERM; killing it")
            server.process.kill()
            server.process.wait()
    if server in LIVE_SERVERS:
        LIVE_SERVERS.remove(server)


def create_upload(client: httpx.Client, size: int) -> tuple[str, str]:
    """A project and an asset of ``size`` bytes: (asset id, upload URL)."""
    project = client.post("/v1/projects", json={"name": "upload-bench"})
    project.raise_for_status()
    asset = client.post("/v1/assets", json={"project_id": project.json()["id"], "size_bytes": size})
    asset.raise_for_status()
    return asset.json()["id"], asset.headers["location"]


def head_offset(client: httpx.Client, url: str) -> tuple[int, int]:
    response = client.head(url, headers=TUS)
    response.raise_for_status()
    return int(response.headers["upload-offset"]), int(response.headers["upload-length"])


def wait_processed(client: httpx.Client, asset_id: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    state = "?"
    while time.monotonic() < deadline:
        response = client.get(f"/v1/assets/{asset_id}")
        if response.status_code != 200:
            return f"http {response.status_code}"
        state = response.json()["state"]
        if state != "processing":
            return str(state)
        time.sleep(0.2)
    return state


# --------------------------------------------------------------------------------------------
# upload clients


@dataclass
class Sent:
    ok: bool
    patches: int
    client_cpu_s: float
    detail: str = ""


def patch_headers(key: str, offset: int) -> dict[str, str]:
    return {
        **TUS,
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": str(offset),
    }


def upload_single(url: str, key: str, source: Source) -> Sent:
    """One PATCH with the whole file, streamed by curl (``--data-binary @file`` caps at 1 GiB)."""
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PATCH"]
    command += ["-T", str(source.path), "-H", "Expect:", "--max-time", "900"]
    for name, value in patch_headers(key, 0).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    before = children_cpu()
    done = subprocess.run(command, capture_output=True, text=True)
    used = children_cpu() - before
    ok = done.returncode == 0 and done.stdout.strip() == "204"
    detail = "" if ok else f"curl rc={done.returncode} http={done.stdout!r} {done.stderr.strip()}"
    return Sent(ok, 1, used, detail)


def send_chunk(
    connection: http.client.HTTPConnection, path: str, key: str, f: Any, offset: int, length: int
) -> tuple[http.client.HTTPResponse, bytes]:
    """One PATCH of ``length`` bytes of the file ``f`` from ``offset``, its body sent by
    sendfile; the response and its body."""
    connection.putrequest("PATCH", path, skip_accept_encoding=True)
    for name, value in patch_headers(key, offset).items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(length))
    connection.endheaders()
    assert connection.sock is not None
    connection.sock.sendfile(f, offset, length)
    response = connection.getresponse()
    return response, response.read()


def upload_chunked(url: str, key: str, source: Source, chunk: int) -> Sent:
    """PATCHes of ``chunk`` bytes on one keep-alive connection, each body sent by sendfile."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    before = time.process_time()
    offset = patches = 0
    try:
        with source.path.open("rb") as f:
            while offset < source.size:
                length = min(chunk, source.size - offset)
                response, body = send_chunk(connection, parts.path, key, f, offset, length)
                patches += 1
                if response.status != 204:
                    detail = f"PATCH @{offset}: {response.status} {body[:200]!r}"
                    return Sent(False, patches, time.process_time() - before, detail)
                offset = int(response.headers["Upload-Offset"])
    except (OSError, http.client.HTTPException) as exc:
        return Sent(False, patches, time.process_time() - before, f"PATCH @{offset}: {exc!r}")
    finally:
        connection.close()
    return Sent(True, patches, time.process_time() - before)


# --------------------------------------------------------------------------------------------
# the state of free memory


SCRATCH_MARGIN = 64 * MiB
SETTLE_SECONDS = 10.0


class FreeMemory:
    """Puts the guest's free memory in the same state before every timed phase.

    On this VM the balloon device reports freed pages to the host (free page reporting), which
    takes them back a few seconds later; writing into such pages costs a host page fault each.
    A page-cache write of 2 GiB runs at about 3 GB/s into just-freed pages and at about
    0.4 GB/s a few seconds later, for dd and for the server alike, so that state must be the
    same for both sides of a pair:

    * ``hot``:  right before the phase, write and delete a scratch file a little larger than the
      upload, so the phase reuses warm pages (measures the software and the disk);
    * ``cold``: wait until ``settle`` seconds have passed since the last large free, so the
      phase pays the host's page faults (what an idle VM sees).
    """

    def __init__(self, state: str, settle: float, scratch: Path) -> None:
        self.state = state
        self.settle = settle
        self.scratch = scratch
        self.last_free = time.monotonic()

    def freed(self) -> None:
        self.last_free = time.monotonic()

    def prepare(self, size: int) -> None:
        if self.state == "hot":
            blocks = -(-(size + SCRATCH_MARGIN) // BLOCK)
            command = ["dd", "if=/dev/zero", f"of={self.scratch}", f"bs={BLOCK}", f"count={blocks}"]
            subprocess.run(command, check=True, capture_output=True)
            self.scratch.unlink()  # dirty pages are dropped, not written back
        elif self.state == "cold":
            time.sleep(max(0.0, self.last_free + self.settle - time.monotonic()))


@dataclass(frozen=True)
class Step:
    rep: int
    size: int
    mode: str
    workload: str


@dataclass(frozen=True)
class Context:
    workdir: Path
    chunk: int
    verify: bool
    memory: FreeMemory


# --------------------------------------------------------------------------------------------
# measurements


@dataclass
class DdRun:
    rep: int
    size: int
    mode: str
    label: str
    command: str
    seconds: float
    mbps: float
    client_cpu_s: float
    memory: str = ""
    kind: str = "dd"


@dataclass
class ServerRun:
    rep: int
    size: int
    mode: str
    workload: str
    ok: bool
    seconds: float = 0.0
    mbps: float = 0.0
    dd_mbps: float = 0.0
    ratio: float = 0.0
    server_cpu_s: float = 0.0
    loop_cpu_s: float = 0.0  # the main thread (event loop); the rest is worker threads
    busy_cpus: float = 0.0  # the whole machine during the upload: server, client, kernel
    read_calls: int = 0  # the server's read syscalls during the upload (socket reads mostly)
    write_calls: int = 0
    client_cpu_s: float = 0.0
    patches: int = 0
    idle: dict[str, float] = field(default_factory=dict)  # before the upload
    after: dict[str, float] = field(default_factory=dict)  # right after the last PATCH
    peak_rss_mib: float = 0.0  # VmHWM right after the upload
    peak_rss_after_processing_mib: float = 0.0
    offset_ok: bool = False
    stored_size_ok: bool = False
    sha256_ok: bool | None = None
    asset_state: str = ""
    error: str = ""
    loadavg_1m: float = 0.0  # before the server started: others using the machine show here
    memory: str = ""  # hot or cold, see FreeMemory
    kind: str = "server"


def run_dd(ctx: Context, rep: int, source: Source, mode: str, zero: bool = False) -> DdRun:
    """dd of ``source`` (or /dev/zero) to a new file, fdatasync'ed in durable mode."""
    out = ctx.workdir / "dd.out"
    out.unlink(missing_ok=True)  # a left-over file would be freed inside the timed phase
    command = ["dd", f"of={out}", f"bs={BLOCK}"]
    if zero:
        command += ["if=/dev/zero", "iflag=count_bytes", f"count={source.size}"]
    else:
        command += [f"if={source.path}"]
    if mode == "durable":
        command.append("conv=fdatasync")
    ctx.memory.prepare(source.size)
    before = children_cpu()
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    used = children_cpu() - before
    out.unlink()
    os.sync()
    ctx.memory.freed()
    label = DD_LABEL[mode] + (" /dev/zero" if zero else "")
    mbps = source.size / MB / seconds
    return DdRun(
        rep, source.size, mode, label, " ".join(command), seconds, mbps, used, ctx.memory.state
    )


def run_server(ctx: Context, step: Step, source: Source) -> ServerRun:
    """A fresh server receives one upload of ``source``; measured and checked, then removed."""
    name = f"r{step.rep}-{source.size}-{step.mode}-{step.workload}"
    data_dir = ctx.workdir / f"data-{name}"
    run = ServerRun(step.rep, source.size, step.mode, step.workload, ok=False)
    run.loadavg_1m, run.memory = os.getloadavg()[0], ctx.memory.state
    server: Server | None = None
    try:
        server = start_server(data_dir, ctx.workdir / "logs" / f"{name}.log", MODES[step.mode])
        with server.client() as client:
            asset_id, url = create_upload(client, source.size)
            run.idle = memory_mib(server.pid)
            ctx.memory.prepare(source.size)
            cpu_before, loop_before = cpu_seconds(server.pid), main_thread_cpu(server.pid)
            ticks_before, calls_before = machine_ticks(), syscalls(server.pid)
            started = time.perf_counter()
            if step.workload == "single":
                sent = upload_single(url, server.key, source)
            else:
                sent = upload_chunked(url, server.key, source, ctx.chunk)
            run.seconds = time.perf_counter() - started
            run.busy_cpus = busy_cpus(ticks_before, machine_ticks())
            calls = syscalls(server.pid)
            run.read_calls = calls[0] - calls_before[0]
            run.write_calls = calls[1] - calls_before[1]
            run.server_cpu_s = cpu_seconds(server.pid) - cpu_before
            run.loop_cpu_s = main_thread_cpu(server.pid) - loop_before
            run.after = memory_mib(server.pid)
            run.peak_rss_mib = run.after["VmHWM"]
            run.mbps = source.size / MB / run.seconds
            run.client_cpu_s, run.patches, run.error = sent.client_cpu_s, sent.patches, sent.detail
            check_upload(run, client, server, asset_id, url, source, ctx.verify)
            run.ok = sent.ok and run.offset_ok and run.stored_size_ok and run.sha256_ok is not False
    except Exception as exc:  # keep going with the other measurements
        run.error = f"{run.error} {exc!r}".strip()
        if server is not None:
            log(server.log_tail())
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(data_dir, ignore_errors=True)
        os.sync()
        ctx.memory.freed()
    return run


def check_upload(
    run: ServerRun,
    client: httpx.Client,
    server: Server,
    asset_id: str,
    url: str,
    source: Source,
    verify: bool,
) -> None:
    offset, length = head_offset(client, url)
    run.offset_ok = offset == length == source.size
    run.asset_state = wait_processed(client, asset_id)
    run.peak_rss_after_processing_mib = memory_mib(server.pid)["VmHWM"]
    stored = server.data_dir / "blobs" / "objects" / asset_id
    run.stored_size_ok = stored.exists() and stored.stat().st_size == source.size
    if verify and stored.exists():
        with stored.open("rb") as f:
            run.sha256_ok = hashlib.file_digest(f, "sha256").hexdigest() == source.sha256


# --------------------------------------------------------------------------------------------
# the plan


def plan(
    reps: int, sizes: Sequence[int], modes: Sequence[str], workloads: Sequence[str]
) -> list[Step]:
    """Every combination once per rep; even reps run them in reverse order (A B … B A)."""
    steps: list[Step] = []
    for rep in range(1, reps + 1):
        order = [(s, m, w) for s in sizes for m in modes for w in workloads]
        if rep % 2 == 0:
            order.reverse()
        steps += [Step(rep, s, m, w) for s, m, w in order]
    return steps


def measure_all(
    args: argparse.Namespace, workdir: Path, sink: Callable[[DdRun | ServerRun], None]
) -> None:
    sources = {size: make_source(workdir, size) for size in args.sizes}
    memory = FreeMemory(args.memory, args.settle, workdir / "scratch")
    ctx = Context(workdir, args.chunk, args.verify, memory)
    steps = plan(args.reps, args.sizes, args.modes, args.workloads)
    zero_done: set[tuple[int, int, str]] = set()
    for number, step in enumerate(steps, 1):
        source = sources[step.size]
        warm_page_cache(source.path)
        if args.dd_zero and (step.rep, step.size, step.mode) not in zero_done:
            zero_done.add((step.rep, step.size, step.mode))
            sink(run_dd(ctx, step.rep, source, step.mode, zero=True))
        dd = run_dd(ctx, step.rep, source, step.mode)
        sink(dd)
        run = run_server(ctx, step, source)
        run.dd_mbps = dd.mbps
        run.ratio = run.mbps / dd.mbps if run.ok else 0.0
        sink(run)
        log(progress_line(number, len(steps), run))


def progress_line(number: int, total: int, run: ServerRun) -> str:
    status = "ok" if run.ok else f"FAILED: {run.error}"
    return (
        f"[{number}/{total}] rep {run.rep} {human_size(run.size)} {run.mode} {run.workload} "
        f"({run.memory}): "
        f"{run.mbps:.0f} MB/s, {DD_LABEL[run.mode]} {run.dd_mbps:.0f} MB/s, "
        f"ratio {run.ratio:.2f}, server CPU {run.server_cpu_s:.2f} s "
        f"(loop {run.loop_cpu_s:.2f}) in {run.seconds:.2f} s, {run.busy_cpus:.2f} CPUs busy, "
        f"{run.size / max(run.read_calls, 1) / 1024:.0f} KiB per read, "
        f"RSS idle {run.idle.get('VmRSS', 0):.0f} / peak {run.peak_rss_mib:.0f} MiB, "
        f"state {run.asset_state} - {status}"
    )


# --------------------------------------------------------------------------------------------
# summary


def spread(values: Iterable[float], fmt: str = "{:.0f}") -> str:
    vals = list(values)
    if not vals:
        return "–"
    median = fmt.format(statistics.median(vals))
    if len(vals) == 1:
        return median
    return f"{median} [{fmt.format(min(vals))}–{fmt.format(max(vals))}]"


def median_or_none(values: Iterable[float]) -> float | None:
    vals = list(values)
    return statistics.median(vals) if vals else None


def summarise(dd_runs: list[DdRun], runs: list[ServerRun]) -> dict[str, Any]:
    groups: dict[tuple[int, str, str], list[ServerRun]] = defaultdict(list)
    for run in runs:
        groups[(run.size, run.mode, run.workload)].append(run)
    order = {w: i for i, w in enumerate(WORKLOADS)}
    keys = sorted(groups, key=lambda k: (k[0], k[1], order[k[2]]))
    rows = [summary_row(key, groups[key]) for key in keys]
    baselines: dict[tuple[int, str], list[DdRun]] = defaultdict(list)
    for dd in dd_runs:
        baselines[(dd.size, dd.label)].append(dd)
    dd_rows = [
        {
            "size": size,
            "label": label,
            "n": len(group),
            "mbps_median": statistics.median(d.mbps for d in group),
            "mbps": [round(d.mbps, 1) for d in group],
        }
        for (size, label), group in sorted(baselines.items())
    ]
    memory = sorted({r.memory for r in runs} | {d.memory for d in dd_runs})
    return {"memory": ",".join(memory), "rows": rows, "dd": dd_rows, "targets": targets(rows)}


def summary_row(key: tuple[int, str, str], group: list[ServerRun]) -> dict[str, Any]:
    size, mode, workload = key
    good = [r for r in group if r.ok]
    cpu = median_or_none(r.server_cpu_s for r in good)
    return {
        "size": size,
        "mode": mode,
        "workload": workload,
        "n": len(group),
        "ok": len(good),
        "mbps": [round(r.mbps, 1) for r in good],
        "mbps_median": median_or_none(r.mbps for r in good),
        "ratio": [round(r.ratio, 3) for r in good],
        "ratio_median": median_or_none(r.ratio for r in good),
        "dd_mbps_median": median_or_none(r.dd_mbps for r in group),
        "server_cpu_s_median": cpu,
        "server_cpu_s_per_gib": None if cpu is None else cpu / (size / GiB),
        "loop_cpu_s_median": median_or_none(r.loop_cpu_s for r in good),
        "seconds_median": median_or_none(r.seconds for r in good),
        "busy_cpus_median": median_or_none(r.busy_cpus for r in good),
        "client_cpu_s_median": median_or_none(r.client_cpu_s for r in good),
        "peak_rss_mib_median": median_or_none(r.peak_rss_mib for r in good),
        "peak_rss_mib_max": max((r.peak_rss_mib for r in good), default=None),
        "idle_rss_mib_median": median_or_none(r.idle.get("VmRSS", 0.0) for r in good),
        "idle_rss_anon_mib_median": median_or_none(r.idle.get("RssAnon", 0.0) for r in good),
        "peak_after_processing_mib_max": max(
            (r.peak_rss_after_processing_mib for r in good), default=None
        ),
        "states": sorted({r.asset_state for r in group}),
        "errors": [r.error for r in group if r.error],
    }


def targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    durable = [
        {
            "size": r["size"],
            "workload": r["workload"],
            "ratio": r["ratio_median"],
            "met": r["ratio_median"] is not None and r["ratio_median"] >= TARGET_RATIO,
        }
        for r in rows
        if r["mode"] == "durable"
    ]
    peaks = [r["peak_rss_mib_max"] for r in rows if r["peak_rss_mib_max"] is not None]
    peak = max(peaks, default=None)
    growth = []
    sizes = sorted({r["size"] for r in rows})
    if len(sizes) >= 2:
        by_key = {(r["size"], r["mode"], r["workload"]): r for r in rows}
        for mode, workload in sorted({(r["mode"], r["workload"]) for r in rows}):
            small, large = (
                by_key.get((sizes[0], mode, workload)),
                by_key.get((sizes[-1], mode, workload)),
            )
            if small and large and small["peak_rss_mib_median"] and large["peak_rss_mib_median"]:
                delta = large["peak_rss_mib_median"] - small["peak_rss_mib_median"]
                growth.append(
                    {
                        "mode": mode,
                        "workload": workload,
                        "from": sizes[0],
                        "to": sizes[-1],
                        "growth_mib": round(delta, 1),
                        "met": delta <= RSS_GROWTH_TOLERANCE_MIB,
                    }
                )
    return {
        "durable_ratio": durable,
        "durable_ratio_met": bool(durable) and all(d["met"] for d in durable),
        "peak_rss_mib": peak,
        "peak_rss_met": peak is not None and peak * MiB < RSS_LIMIT_BYTES,
        "rss_growth": growth,
        "rss_growth_met": bool(growth) and all(g["met"] for g in growth),
    }


def fmt_number(value: float | None, fmt: str = "{:.0f}") -> str:
    return "–" if value is None else fmt.format(value)


def render_markdown(summary: dict[str, Any], runs: list[ServerRun]) -> str:
    lines = [
        f"Free memory before each timed phase: {summary['memory']} (see --memory). "
        "MB/s = 10^6 bytes/s over the upload phase; cells: median [min–max].",
        "",
        "| size | mode | workload | ok/n | MB/s | ÷ dd (paired) | dd MB/s | wall s "
        "| server CPU s | of it event loop | CPU s/GiB | peak RSS MiB | idle RSS MiB (anon) "
        f"| client CPU s | busy CPUs (of {os.cpu_count()}) | asset state |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    by_row: dict[tuple[int, str, str], list[ServerRun]] = defaultdict(list)
    for run in runs:
        if run.ok:
            by_row[(run.size, run.mode, run.workload)].append(run)
    for row in summary["rows"]:
        good = by_row[(row["size"], row["mode"], row["workload"])]
        lines.append(
            f"| {human_size(row['size'])} | {row['mode']} | {row['workload']} "
            f"| {row['ok']}/{row['n']} | {spread(r.mbps for r in good)} "
            f"| {spread((r.ratio for r in good), '{:.2f}')} "
            f"| {fmt_number(row['dd_mbps_median'])} "
            f"| {fmt_number(row['seconds_median'], '{:.2f}')} "
            f"| {spread((r.server_cpu_s for r in good), '{:.2f}')} "
            f"| {fmt_number(row['loop_cpu_s_median'], '{:.2f}')} "
            f"| {fmt_number(row['server_cpu_s_per_gib'], '{:.2f}')} "
            f"| {spread((r.peak_rss_mib for r in good), '{:.1f}')} "
            f"| {fmt_number(row['idle_rss_mib_median'], '{:.1f}')} "
            f"({fmt_number(row['idle_rss_anon_mib_median'], '{:.1f}')}) "
            f"| {fmt_number(row['client_cpu_s_median'], '{:.2f}')} "
            f"| {fmt_number(row['busy_cpus_median'], '{:.2f}')} "
            f"| {', '.join(row['states'])} |"
        )
    lines += ["", "| size | baseline | n | MB/s median [min–max] |", "|---|---|---|---|"]
    for dd in summary["dd"]:
        lines.append(
            f"| {human_size(dd['size'])} | {dd['label']} | {dd['n']} | {spread(dd['mbps'])} |"
        )
    lines += ["", *render_targets(summary["targets"])]
    errors = [e for row in summary["rows"] for e in row["errors"]]
    if errors:
        lines += ["", "Errors:", *(f"- {e}" for e in errors)]
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def render_targets(t: dict[str, Any]) -> list[str]:
    lines = [f"Targets (this machine, {os.cpu_count()} CPUs):"]
    ratios = ", ".join(
        f"{human_size(d['size'])} {d['workload']} {fmt_number(d['ratio'], '{:.2f}')}"
        for d in t["durable_ratio"]
    )
    if t["durable_ratio"]:
        lines.append(
            f"- durable ≥ {TARGET_RATIO:.0%} of dd conv=fdatasync (paired median): {ratios} "
            f"→ {verdict(t['durable_ratio_met'])}"
        )
    peak = t["peak_rss_mib"]
    if peak is not None:
        lines.append(
            f"- peak RSS < {RSS_LIMIT_BYTES // MB} MB: max {peak:.1f} MiB "
            f"({peak * MiB / MB:.1f} MB) → {verdict(t['peak_rss_met'])}"
        )
    if t["rss_growth"]:
        growth = ", ".join(
            f"{g['mode']} {g['workload']} {g['growth_mib']:+.1f} MiB" for g in t["rss_growth"]
        )
        first = t["rss_growth"][0]
        lines.append(
            f"- no RSS growth {human_size(first['from'])} → {human_size(first['to'])} "
            f"(median peak, tolerance {RSS_GROWTH_TOLERANCE_MIB} MiB): {growth} "
            f"→ {verdict(t['rss_growth_met'])}"
        )
    return lines


# --------------------------------------------------------------------------------------------
# command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Upload throughput, server CPU and peak RSS against a dd baseline."
    )
    parser.add_argument(
        "--sizes",
        type=parse_size,
        nargs="+",
        metavar="SIZE",
        help="upload sizes, e.g. 200MB 2GiB (default)",
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument(
        "--chunk",
        type=parse_size,
        default=CHUNK_BYTES,
        help="PATCH size of the chunked workload (default 50MiB)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: one {human_size(QUICK_SIZE)} size, one rep",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="also compare the stored object's sha256 with the source",
    )
    parser.add_argument(
        "--dd-zero",
        action="store_true",
        help="add a dd if=/dev/zero baseline per rep, size and mode",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where sources and data dirs go (default: a temp dir in /tmp)",
    )
    parser.add_argument(
        "--memory",
        choices=("hot", "cold"),
        default="hot",
        help="free-memory state before each timed phase (default hot; see FreeMemory)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=SETTLE_SECONDS,
        help=f"cold: seconds since the last large free (default {SETTLE_SECONDS:.0f})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir afterwards")
    parser.add_argument("--json", action="store_true", help="print the JSON summary only")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help="where upload-<timestamp>.jsonl goes (default bench/results)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or [QUICK_SIZE]
        args.reps = 1
    args.sizes = sorted(set(args.sizes or DEFAULT_SIZES))
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def check_disk(workdir: Path, sizes: Sequence[int]) -> None:
    need = sum(sizes) + 2 * max(sizes) + GiB  # sources + a dd file or an upload + slack
    free = shutil.disk_usage(workdir).free
    if free < need:
        raise SystemExit(f"{workdir}: {free / GiB:.1f} GiB free, need {need / GiB:.1f} GiB")


def command_output(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    return done.stdout.strip().split("\n", 1)[0]


def environment(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    settings = {k: v for k, v in vars(args).items() if k not in ("workdir", "results_dir")}
    return {
        "kind": "meta",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": platform.node(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "curl": command_output(["curl", "--version"]),
        "git": command_output(["git", "describe", "--always", "--dirty"]),
        "vm_dirty_ratio": Path("/proc/sys/vm/dirty_ratio").read_text().strip(),
        "workdir": str(workdir),
        "args": settings,
    }


@contextlib.contextmanager
def work_directory(base: Path | None, keep: bool) -> Iterator[Path]:
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="roughy-upload-bench-", dir=base))
    (path / "logs").mkdir()
    try:
        yield path
    finally:
        for server in list(LIVE_SERVERS):
            stop_server(server)
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the clean-up above


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, terminate)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    results = args.results_dir / f"upload-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    dd_runs: list[DdRun] = []
    runs: list[ServerRun] = []
    started = time.perf_counter()
    with results.open("w") as out, work_directory(args.workdir, args.keep) as workdir:
        check_disk(workdir, args.sizes)

        def write(record: dict[str, Any]) -> None:
            out.write(json.dumps(record) + "\n")
            out.flush()

        def sink(record: DdRun | ServerRun) -> None:
            if isinstance(record, DdRun):
                dd_runs.append(record)
            else:
                runs.append(record)
            write(asdict(record))

        write(environment(args, workdir))
        measure_all(args, workdir, sink)
        summary = summarise(dd_runs, runs)
        write({"kind": "summary", **summary})
    log(f"done in {time.perf_counter() - started:.0f} s; results in {results}")
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(render_markdown(summary, runs))
    all_ok = all(r.ok for r in runs)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
