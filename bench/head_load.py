#!/usr/bin/env python3
"""HEAD load on one TUS upload: N requests over C keep-alive connections, as fast as answered.

Prints requests/s and latency percentiles as JSON. Works against any TUS server:

    .venv/bin/python bench/head_load.py URL [--requests 2000] [--connections 16] [--key sk_...]

Each connection is a raw HTTP/1.1 socket sending one HEAD at a time and reading the answer's
head (a HEAD answer has no body), so the client costs little next to the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlsplit


async def _connection(
    host: str, port: int, request: bytes, count: int, latencies: list[float]
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    failures = 0
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            latencies.append(time.perf_counter() - started)
            if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 204")):
                failures += 1
    finally:
        writer.close()
    return failures


async def run(url: str, requests: int, connections: int, key: str | None) -> dict[str, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [f"HEAD {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Tus-Resumable: 1.0.0"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    share = [requests // connections + (i < requests % connections) for i in range(connections)]
    latencies: list[float] = []
    started = time.perf_counter()
    failures = await asyncio.gather(
        *(_connection(host, port, request, n, latencies) for n in share if n)
    )
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {
        "requests": len(latencies),
        "failures": sum(failures),
        "wall_s": wall,
        "requests_per_s": len(latencies) / wall,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--key", default=None, help="API key for servers that ask for one")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.url, args.requests, args.connections, args.key))
    print(json.dumps(result))
    return 0 if result["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
