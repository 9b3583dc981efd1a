"""Fault injection on the upload path, with real server processes: a server killed mid-PATCH,
and connections closed, reset or stalled mid-body by a proxy of ours (tests/proxy.py)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import (
    OCTETS,
    TUS,
    account_client,
    assert_envelope,
    create_asset,
    head_offset,
    patch,
    raw_patch,
    wait_for_state,
)
from tests.proxy import Fault, FaultProxy

MiB = 1024 * 1024
CHECKPOINT = 8 * MiB


@pytest.fixture(scope="module")
def recording() -> bytes:
    """A WAV of 40 MiB: a real header, then noise as 16-bit stereo samples."""
    size = 40 * MiB
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", size - 8, b"WAVE", b"fmt ", 16, 1, 2, 48_000, 192_000, 4, 16,
        b"data", size - 44,
    )  # fmt: skip
    return header + os.urandom(size - len(header))


@pytest.fixture(scope="module")
def fault_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("faults"),
        database_url,
        ROUGHY_UPLOAD_CHECKPOINT_BYTES=str(CHECKPOINT),
        ROUGHY_UPLOAD_IDLE_TIMEOUT_SECONDS="1",
    )
    yield srv
    srv.stop()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored(server: Server, upload_id: str) -> Path:
    blobs = server.data_dir / "blobs"
    done = blobs / "objects" / upload_id
    return done if done.exists() else blobs / "uploads" / upload_id


def test_a_server_killed_mid_patch_keeps_what_it_acknowledged(
    database_url: str, tmp_path: Path, recording: bytes
) -> None:
    """SIGKILL during one long PATCH: the checkpoints survive, the client resumes from HEAD, and
    the stored file is the source, byte for byte."""
    first = start_server(tmp_path, database_url, ROUGHY_UPLOAD_CHECKPOINT_BYTES=str(CHECKPOINT))
    account = account_client(first.base_url, first.data_dir, first.database_url, "kill9@x.io")
    with account as (c, key):
        project = c.post("/v1/projects", json={"name": "p"}).json()["id"]
        asset, url = create_asset(c, project, len(recording))
        path = urlsplit(url).path
        sending = raw_patch(url, key, 0, len(recording), recording[: 20 * MiB])
        try:
            deadline = time.monotonic() + 20
            while head_offset(c, path) < 2 * CHECKPOINT:
                assert time.monotonic() < deadline, "no checkpoint was acknowledged"
                time.sleep(0.05)
            first.process.kill()
            first.process.wait()
        finally:
            sending.close()

    second = start_server(tmp_path, database_url)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=second.base_url, headers=headers, timeout=60) as c:
            offset = head_offset(c, path)
            assert 2 * CHECKPOINT <= offset <= 20 * MiB
            assert patch(c, path, offset, recording[offset:]).status_code == 204
            assert wait_for_state(c, asset["id"])["state"] == "ready"
            assert _sha256(_stored(second, asset["id"]).read_bytes()) == _sha256(recording)
    finally:
        second.stop()


@pytest.mark.parametrize("fault", ["close", "reset", "stall"])
def test_a_connection_broken_mid_body_leaves_a_consistent_offset(
    fault: Fault, fault_server: Server, tmp_path: Path, recording: bytes
) -> None:
    """The proxy breaks the body after 13 MiB. Afterwards HEAD's offset is exactly what the file
    holds, an immediate resume is taken, and the finished file is the source."""
    srv = fault_server
    email = f"{fault}-{tmp_path.name}@x.io"
    with account_client(srv.base_url, srv.data_dir, srv.database_url, email) as (c, key):
        project = c.post("/v1/projects", json={"name": "p"}).json()["id"]
        asset, url = create_asset(c, project, len(recording))
        path = urlsplit(url).path
        proxy = FaultProxy(("127.0.0.1", int(urlsplit(srv.base_url).port or 80)), fault, 13 * MiB)
        headers = {"Authorization": f"Bearer {key}", **TUS, "Content-Type": OCTETS}
        sender = threading.Thread(
            target=_send_quietly,
            args=(proxy.url(path), {**headers, "Upload-Offset": "0"}, recording),
            daemon=True,
        )
        try:
            sender.start()
            assert proxy.broken.wait(30)
            if fault == "stall":
                time.sleep(2.5)  # the server lets a silent body go after its idle timeout (1 s)
            # Once the server is done with the broken request, HEAD tells what the file holds.
            deadline = time.monotonic() + 10
            while (offset := head_offset(c, path)) != _stored(srv, asset["id"]).stat().st_size:
                assert time.monotonic() < deadline, "HEAD's offset never matched the bytes stored"
                time.sleep(0.1)
            assert 0 < offset <= 13 * MiB

            started = time.monotonic()
            assert patch(c, path, offset, recording[offset:]).status_code == 204
            assert time.monotonic() - started < 30
            assert wait_for_state(c, asset["id"])["state"] == "ready"
            assert _sha256(_stored(srv, asset["id"]).read_bytes()) == _sha256(recording)
        finally:
            proxy.close()
            sender.join(5)


def _send_quietly(url: str, headers: dict[str, str], body: bytes) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the proxy breaks it on purpose
        httpx.patch(url, headers=headers, content=body, timeout=60)


def test_a_full_filesystem_answers_507_keeps_serving_and_completes_once_freed(
    database_url: str, tmp_path: Path, recording: bytes
) -> None:
    """The data dir is a 48 MiB tmpfs, half taken by another file: the upload stops at what fit
    with 507, the rest of the API still answers, and once the other file goes, it completes."""
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(small)], capture_output=True
    )
    # make test runs as root (it installs with apt-get): the mount is part of the test
    assert mounted.returncode == 0, f"cannot mount a small tmpfs: {mounted.stderr.decode()}"
    try:
        filler = small / "filler"
        filler.write_bytes(bytes(24 * MiB))
        srv = start_server(tmp_path, database_url, ROUGHY_DATA_DIR=str(small / "data"))
        try:
            email = f"full-{tmp_path.name}@x.io"
            with account_client(srv.base_url, srv.data_dir, srv.database_url, email) as (c, _):
                project = c.post("/v1/projects", json={"name": "p"}).json()["id"]
                asset, url = create_asset(c, project, len(recording))
                path = urlsplit(url).path
                full = patch(c, path, 0, recording)
                assert_envelope(full, 507, "insufficient_storage")
                kept = int(full.headers["Upload-Offset"])
                assert 0 < kept < len(recording)
                assert head_offset(c, path) == kept
                assert _stored(srv, asset["id"]).read_bytes() == recording[:kept]
                assert c.get("/v1/projects").status_code == 200
                assert c.get(f"/v1/assets/{asset['id']}").json()["state"] == "pending_upload"

                filler.unlink()
                assert patch(c, path, kept, recording[kept:]).status_code == 204
                assert wait_for_state(c, asset["id"])["state"] == "ready"
                assert _sha256(_stored(srv, asset["id"]).read_bytes()) == _sha256(recording)
        finally:
            srv.stop()
    finally:
        subprocess.run(["umount", "--lazy", str(small)], check=False)


@pytest.mark.postgresql  # it restarts the machine's PostgreSQL
def test_the_database_restarting_mid_upload_loses_no_acknowledged_byte(
    fault_server: Server, tmp_path: Path, recording: bytes
) -> None:
    """PostgreSQL restarts while a PATCH streams: what was acknowledged stays, the service
    answers again once the database is back, and the upload completes to the same file."""
    srv = fault_server
    email = f"pg-{tmp_path.name}@x.io"
    with account_client(srv.base_url, srv.data_dir, srv.database_url, email) as (c, key):
        project = c.post("/v1/projects", json={"name": "p"}).json()["id"]
        asset, url = create_asset(c, project, len(recording))
        path = urlsplit(url).path
        assert patch(c, path, 0, recording[: 4 * MiB]).status_code == 204
        rest = len(recording) - 4 * MiB
        sending = raw_patch(url, key, 4 * MiB, rest, recording[4 * MiB : 10 * MiB])
        try:
            version = sorted(os.listdir("/etc/postgresql"))[-1]
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                check=True,
                capture_output=True,
            )
        finally:
            sending.close()
        # Generous waits (the suite may share a loaded machine): they bound a hang, not a speed.
        deadline = time.monotonic() + 180
        while True:  # pooled connections died with the restart; the service finds new ones
            with contextlib.suppress(httpx.HTTPError):
                if c.get("/readyz").status_code == 200:
                    break
            assert time.monotonic() < deadline, "the service did not come back"
            time.sleep(0.2)
        deadline = time.monotonic() + 180
        while (offset := head_offset(c, path)) != _stored(srv, asset["id"]).stat().st_size:
            assert time.monotonic() < deadline, "HEAD's offset never matched the bytes stored"
            time.sleep(0.1)
        assert offset >= 4 * MiB
        assert patch(c, path, offset, recording[offset:]).status_code == 204
        assert wait_for_state(c, asset["id"])["state"] == "ready"
        assert _sha256(_stored(srv, asset["id"]).read_bytes()) == _sha256(recording)


@pytest.mark.parametrize("case", ["process-killed", "machine-rebooted", "with-checksum"])
def test_a_server_killed_mid_patch_loses_only_what_never_reached_the_disk(
    case: str, database_url: str, tmp_path: Path, recording: bytes
) -> None:
    """SIGKILL during one long PATCH, no checkpoint taken yet (they come every 256 MiB): what
    the killed server had written is in the page cache, and the next HEAD makes it durable and
    counts it, first chunk judged as media. After a reboot (a marker from another boot) the
    bytes past the last checkpoint are not trusted; nor are those of a PATCH with a checksum,
    which keeps all or nothing."""
    first = start_server(tmp_path, database_url)
    sent = 20 * MiB
    on_disk = 0
    with account_client(first.base_url, first.data_dir, first.database_url, "crash@x.io") as (
        c,
        key,
    ):
        project = c.post("/v1/projects", json={"name": "p"}).json()["id"]
        asset, url = create_asset(c, project, len(recording))
        path = urlsplit(url).path
        extra = b"Upload-Checksum: sha1 " + b"A" * 28 + b"\r\n" if case == "with-checksum" else b""
        sending = _raw_patch_with(url, key, len(recording), extra, recording[:sent])
        try:
            # All it was sent reaches the file but what still gathers into one write (1 MiB).
            stored = _stored(first, asset["id"])
            deadline = time.monotonic() + 30
            while not stored.exists() or stored.stat().st_size < sent - MiB:
                assert time.monotonic() < deadline, "the server did not write what it was sent"
                time.sleep(0.05)
            time.sleep(0.5)
            on_disk = stored.stat().st_size
            assert head_offset(c, path) == 0  # nothing acknowledged yet
            first.process.kill()
            first.process.wait()
        finally:
            sending.close()
    if case == "machine-rebooted":
        marker = stored.with_name(stored.name + ".unacked")
        marker.write_text("00000000-0000-0000-0000-000000000000")  # written in another boot

    second = start_server(tmp_path, database_url)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=second.base_url, headers=headers, timeout=60) as c:
            offset = head_offset(c, path)
            assert offset == (on_disk if case == "process-killed" else 0)
            pending = c.get(f"/v1/assets/{asset['id']}").json()
            assert pending["state"] == "pending_upload"
            assert pending["type"] == ("audio" if offset else None)  # the first chunk judged
            assert patch(c, path, offset, recording[offset:]).status_code == 204
            assert wait_for_state(c, asset["id"])["state"] == "ready"
            assert _sha256(_stored(second, asset["id"]).read_bytes()) == _sha256(recording)
    finally:
        second.stop()


def _raw_patch_with(url: str, key: str, length: int, extra: bytes, first: bytes) -> socket.socket:
    """A PATCH from offset 0 announcing ``length`` bytes, with ``extra`` header lines, that
    sends only ``first``."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {key}\r\n"
        f"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: {OCTETS}\r\n"
        f"Content-Length: {length}\r\n"
    ).encode()
    sock.sendall(head + extra + b"\r\n" + first)
    return sock
