#!/usr/bin/env python3
"""S3 storage benchmark (issue 23): uploads through Roughy into an S3 bucket against boto3's own
``upload_file`` of the same file into the same bucket, on the same Swift server, in one run.

The scale-out shape: two ``roughy serve --no-worker`` nodes on one PostgreSQL database, one
Redis and one bucket of Swift's s3api (``scripts/s3-server-start.sh``, on free loopback ports).
No worker runs, so nothing but the uploads competes for the CPUs. Workloads, each on fresh
nodes (their peak RSS is then the workload's own):

* ``boto3``: ``S3Client.upload_file`` of the 2 GiB file (boto3's defaults: 8 MiB parts, up to
  10 threads), the baseline;
* ``single``: the 2 GiB file in one PATCH (``curl -T``) to the second node;
* ``alternating``: 50 MiB PATCHes, each to the other node (one keep-alive connection per node,
  bodies sent with ``sendfile``);
* ``single-256M``: one PATCH of 256 MiB, for peak RSS against the file's size;
* ``concurrent``: eight 256 MiB uploads at once, four per node (``curl -T`` each), against
  eight boto3 ``upload_file`` calls at once (``boto3-concurrent``).

Every stored object is checked by its size and its multipart ETag (the MD5 of the parts' MD5s:
Roughy's parts and boto3's are both 8 MiB for these sizes). The S3 requests of each workload
are counted from the Swift proxy's log, by kind. Peak RSS is ``VmHWM`` of each API node after the
workload. The load average is recorded before and after each measurement: the figures mean
little if other work shared the machine.

Run ``.venv/bin/python bench/s3_bench.py --help`` (``make bench-s3``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import hashlib
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import upload_bench as ub  # noqa: E402

from roughy.storage.s3parts import part_size  # noqa: E402
from tests import s3server  # noqa: E402

MiB, GiB = 1024**2, 1024**3
CHUNK = 50 * MiB
POSTGRES = os.environ.get("ROUGHY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("ROUGHY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
GOAL_RATIO = 0.8  # Roughy's throughput against boto3's upload_file


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Measured:
    workload: str
    round: int
    bytes: int
    seconds: float
    ok: bool
    detail: str = ""
    rss_mib: list[float] = field(default_factory=list)  # VmHWM of each API node
    requests: dict[str, int] = field(default_factory=dict)  # S3 requests by kind
    load_before: str = ""
    load_after: str = ""

    @property
    def mb_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0


def multipart_etag(path: Path, size: int, part: int) -> str:
    """The ETag S3 gives a multipart upload of ``path`` in parts of ``part`` bytes."""
    digests = []
    with path.open("rb") as f:
        for _ in range(max(1, -(-size // part))):
            digests.append(hashlib.md5(f.read(part)).digest())
    return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(digests)}"'


class SwiftLog:
    """The S3 requests the proxy logged since the last mark, by kind (the outer proxy-logging
    line of each S3 request: its path is the bucket's, not Swift's /v1/...)."""

    LINE = re.compile(r"proxy-server: \S+ \S+ \S+ (GET|PUT|POST|HEAD|DELETE) (/[^ ]*) HTTP")

    def __init__(self, path: Path, bucket: str) -> None:
        self.path, self.bucket = path, bucket
        self.mark()

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since(self) -> dict[str, int]:
        time.sleep(0.5)  # the proxy logs a request after answering it
        with self.path.open("rb") as f:
            f.seek(self.offset)
            text = f.read().decode(errors="replace")
        kinds: Counter[str] = Counter()
        for method, target in self.LINE.findall(text):
            if not target.startswith(f"/{self.bucket}"):
                continue  # Swift's own subrequests, and other buckets
            query = urlsplit(unquote(target)).query  # logged quoted: %3F, %26
            if "partNumber=" in query:
                kinds["UploadPart"] += 1
            elif method == "POST" and "uploads" in query:
                kinds["CreateMultipartUpload"] += 1
            elif method == "POST" and "uploadId=" in query:
                kinds["CompleteMultipartUpload"] += 1
            else:
                kinds[f"{method} object"] += 1
        return dict(kinds)


class Cluster:
    """Two API nodes (``--no-worker``) on one database, Redis and bucket."""

    def __init__(self, work: Path, s3: s3server.S3Server, database_url: str) -> None:
        self.work, self.s3, self.database_url = work, s3, database_url
        self.env = {
            **os.environ,
            **s3.env("bench"),
            "ROUGHY_DATABASE_URL": database_url,
            "ROUGHY_REDIS_URL": REDIS,
            "ROUGHY_QUEUE_NAME": f"s3-bench-{secrets.token_hex(4)}",
            "ROUGHY_SECRET_KEY": secrets.token_hex(32),
            "ROUGHY_EMBEDDED_WORKER": "false",
            "ROUGHY_CREDITS_ENFORCED": "false",
            "ROUGHY_LOG_JSON": "true",
            "ROUGHY_HOST": "127.0.0.1",
        }
        self.nodes: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []
        self.key = ""

    def start(self) -> None:
        for name in ("a", "b"):
            port = ub.free_port()
            data = self.work / name
            data.mkdir(exist_ok=True)
            env = {**self.env, "ROUGHY_DATA_DIR": str(data), "ROUGHY_PORT": str(port)}
            with (self.work / f"node-{name}.log").open("ab") as out:
                node = subprocess.Popen(
                    [ub.roughy_executable(), "serve", "--no-worker"],
                    env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            self.nodes.append(node)
            self.urls.append(f"http://127.0.0.1:{port}")
            self._healthy(node, self.urls[-1])  # one at a time: the first migrates
        key_file = self.work / "a" / "local-api-key"
        self.key = self.key or key_file.read_text().strip()

    def _healthy(self, node: subprocess.Popen[bytes], url: str) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if node.poll() is not None:
                raise RuntimeError(f"node exited; see {self.work}/node-*.log")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("node not healthy")

    def rss(self) -> list[float]:
        return [ub.memory_mib(node.pid)["VmHWM"] for node in self.nodes]

    def stop(self) -> None:
        for node in self.nodes:
            node.terminate()
        for node in self.nodes:
            try:
                node.wait(15)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait()
        self.nodes, self.urls = [], []

    @contextlib.contextmanager
    def running(self) -> Iterator[Cluster]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def create(self, size: int) -> tuple[str, str]:
        """A new upload of ``size`` bytes: (its id, its path)."""
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.urls[0], headers=headers, timeout=60) as c:
            project = c.post("/v1/projects", json={"name": "s3-bench"}).raise_for_status()
            asset = c.post(
                "/v1/assets", json={"project_id": project.json()["id"], "size_bytes": size}
            ).raise_for_status()
        return asset.json()["id"], urlsplit(asset.headers["location"]).path


def patch_alternating(cluster: Cluster, path: str, source: ub.Source) -> tuple[bool, str]:
    """``CHUNK``-byte PATCHes, each to the other node, bodies sent with sendfile."""
    connections = [
        http.client.HTTPConnection("127.0.0.1", urlsplit(url).port, timeout=600)
        for url in cluster.urls
    ]
    offset = turn = 0
    try:
        with source.path.open("rb") as f:
            while offset < source.size:
                length = min(CHUNK, source.size - offset)
                response, body = ub.send_chunk(
                    connections[turn % 2], path, cluster.key, f, offset, length
                )
                if response.status != 204:
                    return False, f"PATCH @{offset}: {response.status} {body[:200]!r}"
                offset = int(response.headers["Upload-Offset"])
                turn += 1
    finally:
        for connection in connections:
            connection.close()
    return True, f"{turn} PATCHes"


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.results: list[Measured] = []
        self.queue = ""

    def run(self) -> None:
        args, work = self.args, self.work
        size = args.size
        big = ub.make_source(work, size)
        small = ub.make_source(work, args.small)
        etag = {
            s.size: multipart_etag(s.path, s.size, part_size(s.size, 10_000)) for s in (big, small)
        }
        database = self._database()
        s3 = s3server.start(work / "s3", 10_000)
        try:
            self.s3, self.etag = s3, etag
            self.client = s3.client()
            self.swift = SwiftLog(work / "s3" / "log" / "proxy-server.log", s3.bucket)
            cluster = Cluster(work / "nodes", s3, database)
            self.queue = cluster.env["ROUGHY_QUEUE_NAME"]
            (work / "nodes").mkdir()
            for rnd in range(args.rounds):
                order = ["boto3", "single", "alternating", "single-256M", "concurrent",
                         "boto3-concurrent"]  # fmt: skip
                for workload in order if rnd % 2 == 0 else order[::-1]:
                    source = small if workload in ("single-256M",) else big
                    self._one(workload, rnd, source, small, cluster)
        finally:
            s3.stop()
            self._drop_database(database)
            self._drop_queue()

    def _one(
        self, workload: str, rnd: int, source: ub.Source, small: ub.Source, cluster: Cluster
    ) -> None:
        ub.warm_page_cache(source.path)
        before = load()
        self.swift.mark()
        if workload.startswith("boto3"):
            sources = [small] * 8 if workload == "boto3-concurrent" else [source]
            result = self._boto3(workload, rnd, sources)
        else:
            with cluster.running():
                result = self._roughy(workload, rnd, source, small, cluster)
                result.rss_mib = cluster.rss()
        result.requests = self.swift.since()
        result.load_before, result.load_after = before, load()
        self.results.append(result)
        ub.log(
            f"round {rnd} {workload}: {result.mb_s:.1f} MB/s ({result.seconds:.1f} s) "
            f"rss {result.rss_mib} requests {result.requests} load {before} -> "
            f"{result.load_after} {'ok' if result.ok else 'FAILED ' + result.detail}"
        )

    def _boto3(self, workload: str, rnd: int, sources: list[ub.Source]) -> Measured:
        keys = [f"baseline/{workload}-{rnd}-{i}" for i in range(len(sources))]
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(len(sources)) as pool:
            list(
                pool.map(
                    lambda pair: self.client.upload_file(
                        str(pair[0].path), self.s3.bucket, pair[1]
                    ),
                    zip(sources, keys, strict=True),
                )
            )
        seconds = time.perf_counter() - started
        ok, detail = self._check(keys, sources)
        return Measured(workload, rnd, sum(s.size for s in sources), seconds, ok, detail)

    def _roughy(
        self, workload: str, rnd: int, source: ub.Source, small: ub.Source, cluster: Cluster
    ) -> Measured:
        if workload == "concurrent":
            uploads = [cluster.create(small.size) for _ in range(8)]
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                sent = list(
                    pool.map(
                        lambda i: ub.upload_single(
                            cluster.urls[i % 2] + uploads[i][1], cluster.key, small
                        ),
                        range(8),
                    )
                )
            seconds = time.perf_counter() - started
            ok = all(s.ok for s in sent)
            detail = "; ".join(s.detail for s in sent if s.detail)
            ids, sources = [u[0] for u in uploads], [small] * 8
        else:
            upload_id, path = cluster.create(source.size)
            started = time.perf_counter()
            if workload == "alternating":
                ok, detail = patch_alternating(cluster, path, source)
            else:
                # To the second node: the first ran the migrations, and its peak RSS keeps them.
                sent = ub.upload_single(cluster.urls[1] + path, cluster.key, source)
                ok, detail = sent.ok, sent.detail
            seconds = time.perf_counter() - started
            ids, sources = [upload_id], [source]
        if ok:
            ok, detail = self._check([f"bench/objects/{i}" for i in ids], sources)
        return Measured(workload, rnd, sum(s.size for s in sources), seconds, ok, detail)

    def _check(self, keys: list[str], sources: list[ub.Source]) -> tuple[bool, str]:
        """Each object has its source's size and multipart ETag; then it goes (disk space)."""
        bad = []
        for key, source in zip(keys, sources, strict=True):
            head = self.client.head_object(Bucket=self.s3.bucket, Key=key)
            if head["ContentLength"] != source.size or head["ETag"] != self.etag[source.size]:
                bad.append(f"{key}: {head['ContentLength']} bytes, ETag {head['ETag']}")
            self.client.delete_object(Bucket=self.s3.bucket, Key=key)
        return not bad, "; ".join(bad)

    def _drop_queue(self) -> None:
        """The run's queue in Redis (the finished uploads' processing jobs no worker took)."""
        from redis import Redis

        if not self.queue:
            return
        redis = Redis.from_url(REDIS)
        name = self.queue.replace("-", "")
        for key in redis.scan_iter(f"huey.*{name}*"):
            redis.delete(key)
        for key in redis.scan_iter(f"{self.queue}:*"):
            redis.delete(key)

    def _database(self) -> str:
        name = f"roughy_s3_bench_{os.getpid()}"
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return POSTGRES.rsplit("/", 1)[0] + "/" + name

    def _drop_database(self, url: str) -> None:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def summary(results: list[Measured], size: int) -> str:
    def best(workload: str) -> Measured | None:
        done = [r for r in results if r.workload == workload and r.ok]
        return max(done, key=lambda r: r.mb_s) if done else None

    lines = [
        "| workload | MB/s (best) | MB/s (each round) | peak RSS per node, MiB | S3 requests |",
        "|---|---|---|---|---|",
    ]
    for workload in ("boto3", "single", "alternating", "single-256M", "concurrent",
                     "boto3-concurrent"):  # fmt: skip
        rounds = [r for r in results if r.workload == workload]
        top = best(workload)
        if not rounds:
            continue
        each = ", ".join(f"{r.mb_s:.0f}" if r.ok else "failed" for r in rounds)
        rss = " / ".join(f"{v:.0f}" for v in top.rss_mib) if top and top.rss_mib else "-"
        asked = ", ".join(f"{k} {v}" for k, v in sorted((top or rounds[0]).requests.items()))
        lines.append(
            f"| {workload} | {top.mb_s:.1f} | {each} | {rss} | {asked} |"
            if top
            else f"| {workload} | failed | {each} | - | - |"
        )
    base, concurrent_base = best("boto3"), best("boto3-concurrent")
    lines.append("")
    for workload, baseline in (("single", base), ("alternating", base),
                               ("concurrent", concurrent_base)):  # fmt: skip
        mine = best(workload)
        if mine and baseline:
            ratio = mine.mb_s / baseline.mb_s
            verdict = "met" if ratio >= GOAL_RATIO else "missed"
            lines.append(
                f"- {workload}: {ratio:.2f}x {baseline.workload}'s throughput "
                f"(goal >= {GOAL_RATIO}x: {verdict})"
            )
    for length in sorted({size, 50 * GiB}):
        for limit in (10_000, 1_000):
            part = part_size(length, limit)
            lines.append(
                f"- part arithmetic, {ub.human_size(length)} on {limit:,} parts: {part // MiB} "
                f"MiB parts, {GiB / part:.1f} UploadPart requests per GiB"
            )
    for workload in ("single", "alternating", "concurrent", "boto3"):
        if top := best(workload):
            per_gib = sum(top.requests.values()) / (top.bytes / GiB)
            lines.append(f"- S3 requests per GiB, {workload} (all kinds, measured): {per_gib:.1f}")
    loads = sorted({r.load_before for r in results} | {r.load_after for r in results})
    lines.append(f"- load average (1, 5, 15 min) seen during the run: {', '.join(loads)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=ub.parse_size, default=2 * GiB)
    parser.add_argument("--small", type=ub.parse_size, default=256 * MiB)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="64 MiB and 16 MiB, one round")
    args = parser.parse_args()
    if args.quick:
        args.size, args.small, args.rounds = 64 * MiB, 16 * MiB, 1
    ub.log(f"load average at the start: {load()}")
    with tempfile.TemporaryDirectory(prefix="roughy-s3-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            bench.run()
        finally:
            table = summary(bench.results, args.size)
            print(table)
            ub.RESULTS_DIR.mkdir(exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            out = ub.RESULTS_DIR / f"s3-{stamp}"
            out.with_suffix(".md").write_text(table + "\n")
            payload: dict[str, Any] = {
                "size": args.size,
                "small": args.small,
                "results": [asdict(r) | {"mb_s": round(r.mb_s, 2)} for r in bench.results],
            }
            out.with_suffix(".json").write_text(json.dumps(payload, indent=2))
            ub.log(f"results in {out}.md and .json")


if __name__ == "__main__":
    main()
