"""The job queue with real worker processes: killed mid-job, the job runs again, once in effect.

A slow probe is injected by tests/faults/sitecustomize.py (the product code is untouched), so
that a worker can be killed while it holds the job. The suite runs these on the SQLite queue
(``--queue sqlite``) and on Redis (``--queue redis``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from roughy.config import Settings
from roughy.queue.jobqueue import JobQueue
from tests.conftest import ROOT, Server, ffmpeg, start_server, start_worker
from tests.helpers import account_client, upload_bytes, wait_for_state

FAULTS = str(ROOT / "tests" / "faults")


@pytest.fixture(scope="module")
def ninety_seconds(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("jobs") / "ninety.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=90", "-b:a", "32k", str(path))
    return path.read_bytes()


def _slow_probe(marks: Path, seconds: float) -> dict[str, str]:
    marks.mkdir(exist_ok=True)
    return {
        "PYTHONPATH": FAULTS,
        "ROUGHY_FAULT_SLOW_PROBE": str(seconds),
        "ROUGHY_FAULT_DIR": str(marks),
    }


def _probing(marks: Path, timeout: float = 30) -> set[int]:
    """The worker processes that have started measuring (waits for the first)."""
    deadline = time.monotonic() + timeout
    while not (found := {int(p.name.split("-")[1]) for p in marks.glob("probing-*")}):
        assert time.monotonic() < deadline, "no worker started processing"
        time.sleep(0.05)
    return found


def _charges(client: httpx.Client, asset_id: str) -> list[dict[str, Any]]:
    items = client.get("/v1/credits/history", params={"limit": 100}).json()["items"]
    return [e for e in items if e["asset_id"] == asset_id and e["type"] == "consume_asset"]


def test_killed_embedded_worker_is_replaced_and_the_job_runs_again(
    database_url: str, tmp_path: Path, ninety_seconds: bytes
) -> None:
    """With the default lease and housekeeping interval: the new worker sees the old one gone."""
    marks = tmp_path / "marks"
    srv = start_server(tmp_path, database_url, **_slow_probe(marks, 2))
    try:
        with account_client(srv.base_url, srv.data_dir, srv.database_url, "kill@x.io") as (c, _):
            project = c.post("/v1/projects", json={"name": "jobs"}).json()["id"]
            asset_id = upload_bytes(c, project, ninety_seconds)
            (victim,) = _probing(marks)
            os.kill(victim, signal.SIGKILL)

            done = wait_for_state(c, asset_id, ("ready", "failed", "pending_payment"))
            assert done["state"] == "ready", done
            assert done["duration_seconds"] is not None
            # It ran again in the worker started in place of the killed one.
            assert len(_probing(marks)) == 2
            charges = _charges(c, asset_id)
            assert [e["delta"] for e in charges] == [-2]
            assert c.get("/v1/credits/balance").json()["balance"] == 58
    finally:
        srv.stop()


def test_a_worker_on_another_host_takes_over_once_the_dead_ones_claim_lapses(
    database_url: str, tmp_path: Path, ninety_seconds: bytes
) -> None:
    """The first worker runs as another machine (its own UTS namespace), so the second cannot
    see that it died: it takes the job over when the claim's lease (1 s here) runs out."""
    marks = tmp_path / "marks"
    srv = start_server(tmp_path, database_url, ROUGHY_EMBEDDED_WORKER="false")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with account_client(srv.base_url, srv.data_dir, srv.database_url, "apart@x.io") as (c, _):
            project = c.post("/v1/projects", json={"name": "jobs"}).json()["id"]
            asset_id = upload_bytes(c, project, ninety_seconds)
            time.sleep(1.5)
            # No worker runs: the job waits in the queue.
            assert c.get(f"/v1/assets/{asset_id}").json()["state"] == "processing"

            log = tmp_path / "workers.log"
            lease = {"ROUGHY_JOB_LEASE_SECONDS": "1"}
            workers.append(
                start_worker(srv, log, hostname="elsewhere", **lease, **_slow_probe(marks, 60))
            )
            _probing(marks)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()

            workers.append(start_worker(srv, log, ROUGHY_REAPER_INTERVAL_SECONDS="0.5"))
            done = wait_for_state(c, asset_id, ("ready", "failed", "pending_payment"))
            assert done["state"] == "ready", done
            assert [e["delta"] for e in _charges(c, asset_id)] == [-2]
    finally:
        for w in workers:
            w.terminate()
            w.wait(15)
        srv.stop()


def test_a_stopping_worker_finishes_its_job(
    database_url: str, tmp_path: Path, ninety_seconds: bytes
) -> None:
    """SIGTERM lets a running job finish within the grace period instead of abandoning it."""
    marks = tmp_path / "marks"
    srv = start_server(tmp_path, database_url, ROUGHY_EMBEDDED_WORKER="false")
    try:
        with account_client(srv.base_url, srv.data_dir, srv.database_url, "term@x.io") as (c, _):
            project = c.post("/v1/projects", json={"name": "jobs"}).json()["id"]
            asset_id = upload_bytes(c, project, ninety_seconds)
            worker = start_worker(srv, tmp_path / "worker.log", **_slow_probe(marks, 2))
            _probing(marks)
            worker.terminate()
            assert worker.wait(15) == 0
            assert c.get(f"/v1/assets/{asset_id}").json()["state"] == "ready"
    finally:
        srv.stop()


def test_jobs_lost_on_the_way_to_the_queue_run_anyway(
    database_url: str, tmp_path: Path, ninety_seconds: bytes
) -> None:
    """The queue loses its tasks (flushed while no worker runs): the owed jobs are found again."""
    fast = {"ROUGHY_JOB_LEASE_SECONDS": "0.2", "ROUGHY_REAPER_INTERVAL_SECONDS": "0.5"}
    srv = start_server(tmp_path, database_url, ROUGHY_EMBEDDED_WORKER="false", **fast)
    try:
        with account_client(srv.base_url, srv.data_dir, srv.database_url, "lost@x.io") as (c, _):
            project = c.post("/v1/projects", json={"name": "jobs"}).json()["id"]
            kept = upload_bytes(c, project, ninety_seconds)
            deleted = upload_bytes(c, project, ninety_seconds)
            assert c.delete(f"/v1/assets/{deleted}").status_code == 204
            objects = srv.data_dir / "blobs" / "objects"
            assert {kept, deleted} <= {p.name for p in objects.iterdir()}

            queue = JobQueue(Settings(_env_file=None, **_settings_of(srv)))
            assert queue.pending() == 3  # two to process, one to purge
            queue.huey.flush()
            assert queue.pending() == 0

            worker = start_worker(srv, tmp_path / "worker.log", **fast)
            try:
                done = wait_for_state(c, kept, ("ready", "failed", "pending_payment"))
                assert done["state"] == "ready", done
                deadline = time.monotonic() + 30
                while deleted in {p.name for p in objects.iterdir()}:
                    assert time.monotonic() < deadline, "the deleted asset's bytes stayed"
                    time.sleep(0.1)
            finally:
                worker.terminate()
                worker.wait(15)
    finally:
        srv.stop()


def _settings_of(srv: Server) -> dict[str, Any]:
    """The server's queue settings, as its environment gives them."""
    env = srv.environ
    return {
        "data_dir": srv.data_dir,
        "redis_url": env.get("ROUGHY_REDIS_URL"),
        "queue_name": env.get("ROUGHY_QUEUE_NAME", "roughy"),
    }
