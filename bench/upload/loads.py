"""The workloads, as any TUS client would send them; each is timed by the caller.

* ``single``: the whole file in one PATCH, streamed by ``curl -T``;
* ``chunked``: 50 MiB PATCHes by the tuspy client (the research's method);
* ``concurrent``: eight ``curl -T`` PATCHes of 256 MiB at once, on eight uploads;
* ``head``: 2,000 HEADs on one upload over 16 keep-alive connections (``bench/head_load.py``).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import uvloop
from tusclient import client as tus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import head_load

PATCH_HEADERS = {"Content-Type": "application/offset+octet-stream", "Tus-Resumable": "1.0.0"}


@dataclass
class Sent:
    ok: bool
    detail: str = ""


def _curl_patch(url: str, path: Path, auth: dict[str, str]) -> list[str]:
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PATCH"]
    command += ["-T", str(path), "-H", "Expect:", "--max-time", "900"]
    for name, value in {**PATCH_HEADERS, "Upload-Offset": "0", **auth}.items():
        command += ["-H", f"{name}: {value}"]
    return [*command, url]


def single(urls: list[str], path: Path, auth: dict[str, str]) -> Sent:
    """One PATCH per URL, all started together (one URL: the single-PATCH workload)."""
    runs = [
        subprocess.Popen(_curl_patch(url, path, auth), stdout=subprocess.PIPE, text=True)
        for url in urls
    ]
    codes = [run.communicate()[0].strip() for run in runs]
    bad = [code for code in codes if code != "204"]
    return Sent(not bad, f"HTTP {bad}" if bad else "")


def chunked(url: str, path: Path, auth: dict[str, str], chunk: int) -> Sent:
    client = tus.TusClient(url.rsplit("/", 1)[0], headers=auth)
    uploader = client.uploader(str(path), url=url, chunk_size=chunk, retries=0)
    try:
        uploader.upload()
    except Exception as exc:  # tuspy raises its own errors and requests'
        return Sent(False, repr(exc))
    return Sent(uploader.offset == path.stat().st_size, f"offset {uploader.offset}")


def heads(url: str, auth: dict[str, str], requests: int, connections: int) -> dict[str, float]:
    """``requests`` HEADs over ``connections`` connections, on uvloop (the client costs little)."""
    key = auth.get("Authorization", "").removeprefix("Bearer ") or None
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(head_load.run(url, requests, connections, key))
