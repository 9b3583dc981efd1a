"""Fixtures of the webhook tests: a server that may deliver to loopback, with retries, timeouts
and leases short enough for a test, and real receivers (``tests.receiver``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from roughy.db import Database
from tests.conftest import Server, start_server
from tests.helpers import db_account_client
from tests.receiver import Receiver

# What the webhook tests' server changes: loopback allowed; retries after about 1 s each
# (the queue schedules to the second); short timeouts and leases; housekeeping twice a second.
FAST = {
    "ROUGHY_WEBHOOK_ALLOW_PRIVATE": "true",
    "ROUGHY_WEBHOOK_RETRY_SCHEDULE": json.dumps([0.5, 0.5, 1, 1, 1, 2, 2]),
    "ROUGHY_WEBHOOK_TIMEOUT_SECONDS": "2",
    "ROUGHY_WEBHOOK_DISABLE_AFTER_SECONDS": "6",
    "ROUGHY_WEBHOOK_ROTATION_OVERLAP_SECONDS": "4",
    "ROUGHY_WEBHOOK_CONCURRENCY": "3",
    "ROUGHY_JOB_LEASE_SECONDS": "2",
    "ROUGHY_REAPER_INTERVAL_SECONDS": "0.5",
}
ALL_TYPES = [
    "asset.ready",
    "asset.pending_payment",
    "asset.failed",
    "cut.completed",
    "cut.failed",
    "render.completed",
    "render.failed",
    "render.cancelled",
]


@pytest.fixture(scope="package")
def hooks_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("hooks"), database_url, **FAST)
    yield srv
    srv.stop()


@pytest.fixture
def hooks(hooks_server: Server) -> Iterator[httpx.Client]:
    """A client of a new account on the webhook tests' server."""
    with account_on(hooks_server) as c:
        yield c


def account_on(srv: Server) -> httpx.Client:
    """A client keyed for a new account on ``srv``."""
    database = Database(_resolved(srv.database_url))
    try:
        return db_account_client(srv.base_url, database, "hooks")
    finally:
        database.dispose()


def _resolved(url: str) -> str:
    from roughy.config import Settings

    return Settings(database_url=url).resolved_database_url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """More receivers, each closed at the end."""
    made: list[Receiver] = []

    def make(port: int = 0, path: str | None = None) -> Receiver:
        made.append(Receiver(port, path))
        return made[-1]

    yield make
    for r in made:
        r.close()


def register(
    client: httpx.Client, receiver: Receiver, types: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """An endpoint on ``receiver``, whose secret the receiver then verifies with."""
    body = {"url": receiver.url, "event_types": types or ALL_TYPES, **extra}
    r = client.post("/v1/webhook-endpoints", json=body)
    assert r.status_code == 201, r.text
    endpoint: dict[str, Any] = r.json()
    receiver.secrets.append(endpoint["secret"])
    return endpoint


def attempts(client: httpx.Client, endpoint_id: str) -> list[dict[str, Any]]:
    """The endpoint's delivery log, oldest first."""
    r = client.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", params={"limit": 100})
    assert r.status_code == 200, r.text
    return list(reversed(r.json()["items"]))


def wait_until(check: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
    """``check()``'s first truthy value, polled."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        time.sleep(0.1)
    return value


def worker_pids(server: Server) -> list[int]:
    """The processes ``roughy serve`` started (its embedded worker)."""
    pid = server.process.pid
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def tmp_server(tmp: Path, database_url: str, **env: str) -> Server:
    return start_server(tmp, database_url, **{**FAST, **env})
