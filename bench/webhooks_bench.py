#!/usr/bin/env python3
"""Webhook delivery benchmark: from a state change to the receiver's 200.

A state change here is a transaction that records an event (``events.record``, the one call
every resource makes) and commits, in this process, through a runtime like the API's: its
announcer queues the event's dispatch, a worker hands it to its endpoints' deliveries and its
sender POSTs it, signed, to a receiver on loopback (an asyncio HTTP/1.1 server in this
process that notes each request's arrival and checks one signature in 25 with
``standardwebhooks``). Workers are ``roughy worker`` processes (1 or 4), on the embedded
default (SQLite + SQLite queue) and on PostgreSQL + Redis. Workers log at WARNING (a line per
delivery otherwise).

Measured, for each stack:

* latency: events one at a time (a random 0-50 ms pause between them), the time from each
  commit to its arrival at the receiver: p50, p99;
* throughput: events committed as fast as four threads can (ten per transaction), to one
  endpoint, then spread over 50 endpoints (50 accounts): events delivered per second, from the
  first commit to the last arrival, and the rate the producer committed them at;
* with ``--refusals``: 10,000 events while the receiver answers 503 to the first 30 % of the
  requests it gets (retries every 1-2 s here): every event delivered, duplicates counted
  (events that got a 2xx more than once).

Run ``.venv/bin/python bench/webhooks_bench.py --help`` (``make bench-webhooks``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import standardwebhooks
from sqlalchemy import event as orm_event

from roughy.accounts import service as accounts
from roughy.config import Settings
from roughy.events import service as events
from roughy.jobs import register_jobs
from roughy.runtime import Runtime, build_runtime
from roughy.webhooks import service as webhooks

POSTGRES = os.environ.get("ROUGHY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("ROUGHY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BENCH_DB = "roughy_bench_webhooks"
ROOT = Path(__file__).resolve().parent.parent


# --- the receiver -----------------------------------------------------------------------------


@dataclass
class Arrivals:
    """What the receiver got: per webhook-id, (time, status answered) of each request."""

    by_id: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0
    refuse_first: int = 0
    checked: int = 0
    bad_signatures: int = 0
    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret

    def delivered(self) -> dict[str, float]:
        """webhook-id -> the time of its first 2xx."""
        return {
            i: min(t for t, s in hits if s < 300)
            for i, hits in self.by_id.items()
            if any(s < 300 for _, s in hits)
        }


class Receiver:
    def __init__(self) -> None:
        self.arrivals = Arrivals()
        self.changed = threading.Condition()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.port = 0

        async def start() -> None:
            server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()

        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(start(), self.loop)
        ready.wait(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                headers = {}
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self._take(head[0].split(" ")[1].lstrip("/"), headers, body)
                writer.write(b"HTTP/1.1 %d X\r\ncontent-length: 0\r\n\r\n" % status)
                await writer.drain()
        writer.close()

    def _take(self, path: str, headers: dict[str, str], body: bytes) -> int:
        a = self.arrivals
        now = time.time()
        a.requests += 1
        status = 503 if a.requests <= a.refuse_first else 200
        if a.requests % 25 == 0 and path in a.secrets:
            a.checked += 1
            try:
                standardwebhooks.Webhook(a.secrets[path]).verify(body, headers)
            except standardwebhooks.WebhookVerificationError:
                a.bad_signatures += 1
        with self.changed:
            a.by_id[headers["webhook-id"]].append((now, status))
            self.changed.notify_all()
        return status

    def reset(self, refuse_first: int = 0) -> None:
        with self.changed:
            secrets = self.arrivals.secrets
            self.arrivals = Arrivals(refuse_first=refuse_first, secrets=secrets)

    def wait_delivered(self, ids: set[str], timeout: float) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                got = {i: t for i, t in self.arrivals.delivered().items() if i in ids}
                if len(got) == len(ids) or time.monotonic() > deadline:
                    return got
                self.changed.wait(0.2)


# --- the stack --------------------------------------------------------------------------------


@dataclass
class Stack:
    name: str
    workers: int
    rt: Runtime
    processes: list[subprocess.Popen[bytes]]


def _database(kind: str, tmp: Path) -> dict[str, str]:
    if kind == "embedded":
        return {"ROUGHY_DATABASE_URL": f"sqlite:///{tmp / 'roughy.db'}"}
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return {
        "ROUGHY_DATABASE_URL": POSTGRES.rsplit("/", 1)[0] + "/" + BENCH_DB,
        "ROUGHY_REDIS_URL": REDIS,
    }


@contextmanager
def stack(kind: str, workers: int, tmp: Path) -> Iterator[Stack]:
    data = tmp / f"{kind}-{workers}"
    data.mkdir()
    env = {
        **os.environ,
        "ROUGHY_DATA_DIR": str(data),
        "ROUGHY_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
        "ROUGHY_WEBHOOK_ALLOW_PRIVATE": "true",
        "ROUGHY_WEBHOOK_RETRY_SCHEDULE": "[1, 1.5, 2, 2, 2, 2, 2, 2, 2]",
        "ROUGHY_LOG_LEVEL": "WARNING",
        **_database(kind, data),
    }
    settings = Settings(
        data_dir=data,
        database_url=env["ROUGHY_DATABASE_URL"],
        redis_url=env.get("ROUGHY_REDIS_URL"),
        queue_name=env["ROUGHY_QUEUE_NAME"],
    )
    rt = build_runtime(settings, register_jobs)
    roughy = shutil.which("roughy", path=str(Path(sys.executable).parent)) or "roughy"
    log = (data / "workers.log").open("ab")
    processes = [
        subprocess.Popen([roughy, "worker"], env=env, stdout=log, stderr=log)
        for _ in range(workers)
    ]
    try:
        time.sleep(3)  # the workers start
        yield Stack(f"{kind}, {workers} worker{'s' if workers > 1 else ''}", workers, rt, processes)
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        rt.close()
        log.close()


def accounts_with_endpoints(st: Stack, receiver: Receiver, n: int) -> list[str]:
    """``n`` new accounts, each with one endpoint on the receiver (its own path)."""
    ids = []
    with st.rt.db.session() as session:
        for _ in range(n):
            account = accounts.create_account(session, f"{uuid.uuid4().hex[:12]}@bench.io")
            path = f"hooks/{account.id}"
            endpoint = webhooks.create(session, account, receiver.url(path), ["asset.ready"], None)
            receiver.arrivals.secrets[path] = endpoint.secret
            ids.append(account.id)
    return ids


def commit_events(rt: Runtime, account_id: str, n: int) -> tuple[list[str], float]:
    """``n`` asset.ready events in one transaction; their ids and the commit's time."""
    committed: list[float] = []
    with rt.db.session() as session:
        orm_event.listen(
            session, "after_commit", lambda _: committed.append(time.time()), once=True
        )
        ids = []
        for _ in range(n):
            entity = str(uuid.uuid4())
            ids.append(
                events.record(
                    session, account_id, "asset.ready", entity, asset_id=entity,
                    previous_state="processing",
                ).id
            )  # fmt: skip
    return ids, committed[0]


# --- the measurements -------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(st: Stack, receiver: Receiver, account: str, n: int) -> dict[str, Any]:
    receiver.reset()
    lat = []
    for _ in range(n):
        (event_id,), committed = commit_events(st.rt, account, 1)
        got = receiver.wait_delivered({event_id}, 30)
        if event_id in got:
            lat.append((got[event_id] - committed) * 1000)
        time.sleep(random.uniform(0, 0.05))
    return {
        "events": n,
        "delivered": len(lat),
        "p50_ms": round(pct(lat, 0.5), 1),
        "p99_ms": round(pct(lat, 0.99), 1),
        "mean_ms": round(statistics.fmean(lat), 1),
    }


def throughput(
    st: Stack, receiver: Receiver, accounts_: list[str], n: int, refuse: float = 0.0
) -> dict[str, Any]:
    receiver.reset(refuse_first=round(n * refuse))
    per_tx = 10
    batches = [accounts_[i % len(accounts_)] for i in range(n // per_tx)]
    started = time.time()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda a: commit_events(st.rt, a, per_tx), batches))
    produced = time.time()
    ids = {i for batch, _ in results for i in batch}
    got = receiver.wait_delivered(ids, 600 if refuse else 300)
    last = max(got.values()) if got else produced
    a = receiver.arrivals
    out = {
        "events": len(ids),
        "endpoints": len(accounts_),
        "delivered": len(got),
        "not_delivered_in_wait": len(ids) - len(got),  # by the end of the wait (300 s; 600 s)
        "events_per_s": round(len(got) / (last - started), 1),
        "committed_per_s": round(len(ids) / (produced - started), 1),
        "requests": a.requests,
        "duplicates": sum(1 for hits in a.by_id.values() if sum(s < 300 for _, s in hits) > 1),
        "signatures_checked": a.checked,
        "bad_signatures": a.bad_signatures,
    }
    if refuse:
        out["refused"] = min(a.requests, a.refuse_first)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    receiver = Receiver()
    results: dict[str, Any] = {
        "machine": f"{platform.node()} {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="webhooks-bench-") as tmp:
        if args.keep:
            tmp = tempfile.mkdtemp(prefix="webhooks-bench-kept-")
            print("data in", tmp, flush=True)
        for kind in args.stacks:
            for workers in args.workers:
                with stack(kind, workers, Path(tmp)) as st:
                    print(f"== {st.name}", flush=True)
                    one = accounts_with_endpoints(st, receiver, 1)
                    many = accounts_with_endpoints(st, receiver, 50)
                    run_ = {
                        "stack": st.name,
                        "latency": latency(st, receiver, one[0], args.latency),
                    }
                    print(" latency", run_["latency"], flush=True)
                    run_["one_endpoint"] = throughput(st, receiver, one, args.events)
                    print(" one endpoint", run_["one_endpoint"], flush=True)
                    run_["fifty_endpoints"] = throughput(st, receiver, many, args.events)
                    print(" fifty endpoints", run_["fifty_endpoints"], flush=True)
                    if args.refusals and workers == max(args.workers):
                        run_["refusals"] = throughput(st, receiver, one, args.refusals, 0.3)
                        print(" refusals", run_["refusals"], flush=True)
                    results["runs"].append(run_)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", nargs="+", default=["embedded", "postgresql"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--latency", type=int, default=200, help="events, one at a time")
    parser.add_argument("--events", type=int, default=3000, help="events per throughput run")
    parser.add_argument(
        "--refusals", type=int, default=10_000, help="events of the refusal run (0: none)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and logs")
    args = parser.parse_args()
    results = run(args)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
