"""Expiry and purging, on a server whose clocks run fast, and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import (
    TUS,
    account_client,
    assert_envelope,
    cli,
    create_asset,
    head_offset,
    patch,
    raw_patch,
    upload_bytes,
    wait_for_state,
)


@pytest.fixture(scope="module")
def fast_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("fast"),
        database_url,
        ROUGHY_UPLOAD_EXPIRY_SECONDS="3",
        ROUGHY_REAPER_INTERVAL_SECONDS="0.5",
        ROUGHY_UPLOAD_IDLE_TIMEOUT_SECONDS="1",
        ROUGHY_UPLOAD_LOCK_WAIT_SECONDS="0",
    )
    yield srv
    srv.stop()


def _files(root: Path) -> set[str]:
    return {p.name for p in root.rglob("*") if p.is_file()}


def _eventually(check: Any, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_idle_uploads_are_reaped_with_asset_and_bytes(
    fast_server: Server, media: dict[str, Path], tmp_path: Path
) -> None:
    data = media["mp3"].read_bytes()
    with _account(fast_server, tmp_path, "reaper@example.com") as (c, _):
        pid = c.post("/v1/projects", json={"name": "p"}).json()["id"]
        asset, url = create_asset(c, pid, len(data))
        r = patch(c, url, 0, data[:1000])
        assert r.status_code == 204 and "Upload-Expires" in r.headers
        blobs = fast_server.data_dir / "blobs"
        assert asset["id"] in _files(blobs)
        assert _eventually(lambda: c.get(f"/v1/assets/{asset['id']}").status_code == 404)
        assert c.head(url, headers=TUS).status_code == 404
        assert patch(c, url, 1000, data[1000:]).status_code == 404
        assert _eventually(lambda: asset["id"] not in _files(blobs))
        # a finished upload never expires
        done = upload_bytes(c, pid, media["mp3"].read_bytes())
        time.sleep(4)
        assert wait_for_state(c, done)["state"] == "ready"


def test_deleted_assets_lose_their_bytes(
    client: httpx.Client, server: Server, project: dict[str, Any], media: dict[str, Path]
) -> None:
    asset_id = upload_bytes(client, project["id"], media["mp3"].read_bytes())
    wait_for_state(client, asset_id)
    blobs = server.data_dir / "blobs"
    assert asset_id in _files(blobs)
    assert client.delete(f"/v1/assets/{asset_id}").status_code == 204
    assert _eventually(lambda: asset_id not in _files(blobs))


def _account(server: Server, tmp_path: Path, email: str) -> Any:
    return account_client(server.base_url, server.data_dir, server.database_url, email)


def test_cli_creates_accounts_and_keys(server: Server, tmp_path: Path) -> None:
    key = cli(server.data_dir, server.database_url, "accounts", "create", "Cli.User@Example.com")
    assert key.startswith("sk_")
    second = cli(server.data_dir, server.database_url, "keys", "create", "cli.user@example.com")
    assert second.startswith("sk_") and second != key
    for k in (key, second):
        me = httpx.get(server.base_url + "/v1/users/me", headers={"Authorization": f"Bearer {k}"})
        assert me.json()["email"] == "cli.user@example.com"
    env = {
        **os.environ,
        "ROUGHY_DATA_DIR": str(server.data_dir),
        "ROUGHY_DATABASE_URL": server.database_url,
    }
    dup = subprocess.run(
        [str(Path(sys.executable).parent / "roughy"), "accounts", "create", "cli.user@example.com"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert dup.returncode != 0 and "exists" in dup.stderr


def test_stopping_the_server_keeps_what_a_running_upload_sent(
    database_url: str, tmp_path: Path, media: dict[str, Path]
) -> None:
    first = start_server(tmp_path, database_url, ROUGHY_SHUTDOWN_GRACE_SECONDS="1")
    data = media["mp4"].read_bytes()
    with _account(first, tmp_path, f"stop-{tmp_path.name}@example.com") as (c, key):
        pid = c.post("/v1/projects", json={"name": "p"}).json()["id"]
        asset, url = create_asset(c, pid, len(data))
    running = raw_patch(url, key, 0, len(data), data[:100_000])
    try:
        time.sleep(0.5)
        first.stop()
        assert first.process.returncode is not None
    finally:
        running.close()
    second = start_server(tmp_path, database_url)
    try:
        path = urlsplit(url).path
        with httpx.Client(
            base_url=second.base_url, headers={"Authorization": f"Bearer {key}"}
        ) as c:
            assert head_offset(c, path) == 100_000
            assert patch(c, path, 100_000, data[100_000:]).status_code == 204
            assert wait_for_state(c, asset["id"])["state"] == "ready"
    finally:
        second.stop()


def test_a_silent_connection_is_let_go_and_its_bytes_kept(
    fast_server: Server, media: dict[str, Path], tmp_path: Path
) -> None:
    data = media["mp4"].read_bytes()
    with _account(fast_server, tmp_path, "idle@example.com") as (c, key):
        pid = c.post("/v1/projects", json={"name": "p"}).json()["id"]
        _, url = create_asset(c, pid, len(data))
        silent = raw_patch(url, key, 0, len(data), data[:90_000])
        try:
            answer = silent.recv(4096)  # the server answers once it gives up on the silence
            assert answer.startswith(b"HTTP/1.1 409")  # interrupted, not a success
            assert b"upload-offset: 90000" in answer.lower()
            assert head_offset(c, url) == 90_000
        finally:
            silent.close()


def test_a_second_writer_is_told_the_upload_is_locked(
    fast_server: Server, media: dict[str, Path], tmp_path: Path
) -> None:
    """With no lock wait, a PATCH that finds another one running is answered 423 at once."""
    data = media["mp4"].read_bytes()
    with _account(fast_server, tmp_path, "locked@example.com") as (c, key):
        pid = c.post("/v1/projects", json={"name": "p"}).json()["id"]
        _, url = create_asset(c, pid, len(data))
        running = raw_patch(url, key, 0, len(data), data[:80_000])
        try:
            time.sleep(0.3)
            r = patch(c, url, 0, data)
            assert_envelope(r, 423, "upload_locked")
            assert r.headers["Retry-After"] == "1"
        finally:
            running.close()
        assert _eventually(lambda: head_offset(c, url) == 80_000)
        assert patch(c, url, 80_000, data[80_000:]).status_code == 204


def test_a_full_store_answers_507_and_keeps_what_fit(
    database_url: str, tmp_path: Path, media: dict[str, Path]
) -> None:
    """The server may write no file over 2 MiB (a real limit, as a full disk would be)."""
    limit = 2 * 1024 * 1024
    srv = start_server(tmp_path, database_url, max_file_bytes=limit)
    try:
        data = media["mp4"].read_bytes()[:65536] + os.urandom(3 * 1024 * 1024)
        with _account(srv, tmp_path, f"full-{tmp_path.name}@example.com") as (c, _):
            pid = c.post("/v1/projects", json={"name": "p"}).json()["id"]
            _, url = create_asset(c, pid, len(data))
            r = patch(c, url, 0, data)
            assert_envelope(r, 507, "insufficient_storage")
            kept = int(r.headers["Upload-Offset"])
            assert 0 < kept <= limit
            assert head_offset(c, url) == kept
            stored = (srv.data_dir / "blobs" / "uploads" / url.rsplit("/", 1)[1]).read_bytes()
            assert stored == data[:kept]
    finally:
        srv.stop()
