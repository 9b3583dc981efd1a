"""Small helpers the tests share: creating assets and speaking TUS by hand."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from roughy.accounts import service as accounts
from roughy.db import Database

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def create_asset(
    client: httpx.Client, project_id: str, size: int, **extra: Any
) -> tuple[dict[str, Any], str]:
    r = client.post("/v1/assets", json={"project_id": project_id, "size_bytes": size, **extra})
    assert r.status_code == 201, r.text
    return r.json(), r.headers["Location"]


def patch(
    client: httpx.Client, url: str, offset: int, body: bytes, **headers: str
) -> httpx.Response:
    h = {**TUS, "Upload-Offset": str(offset), "Content-Type": OCTETS}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    return client.patch(url, content=body, headers=h)


def head_offset(client: httpx.Client, url: str) -> int:
    r = client.head(url, headers=TUS)
    assert r.status_code == 200, r.status_code
    return int(r.headers["Upload-Offset"])


def upload_bytes(client: httpx.Client, project_id: str, data: bytes) -> str:
    """A new asset with all its bytes in one PATCH; its id."""
    asset, url = create_asset(client, project_id, len(data))
    r = patch(client, url, 0, data)
    assert r.status_code == 204, r.text
    return str(asset["id"])


def wait_for_state(
    client: httpx.Client,
    asset_id: str,
    states: tuple[str, ...] = ("ready", "failed"),
    timeout: float = 60,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/v1/assets/{asset_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["state"] in states or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def assert_envelope(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body: dict[str, Any] = r.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "x-request-id" in r.headers
    return body["error"]


def raw_patch(url: str, key: str, offset: int, length: int, first: bytes) -> socket.socket:
    """Open a PATCH announcing ``length`` bytes and send only ``first``; the caller goes on."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {key}\r\n"
        f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\nContent-Type: {OCTETS}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + first)
    return sock


def cli(
    data_dir: Path,
    database_url: str,
    *args: str,
    check: bool = True,
    extra_env: dict[str, str] | None = None,
) -> str:
    """Run the ``roughy`` command against a server's data dir and database; its stdout."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "ROUGHY_DATA_DIR": str(data_dir),
        "ROUGHY_DATABASE_URL": database_url,
        **(extra_env or {}),
    }
    roughy = Path(sys.executable).parent / "roughy"
    done = subprocess.run(
        [str(roughy), *args], env=env, capture_output=True, text=True, check=check
    )
    return done.stdout.strip()


@contextmanager
def account_client(
    base_url: str, data_dir: Path, database_url: str, email: str
) -> Iterator[tuple[httpx.Client, str]]:
    """A new account (made with the CLI, with the sign-up credits): a client with its key, and
    the key."""
    key = cli(data_dir, database_url, "accounts", "create", email)
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}) as c:
        yield c, key


def db_account_client(base_url: str, db: Database, name: str) -> httpx.Client:
    """A client keyed for a new account (60 credits) made straight in the database."""
    with db.session() as session:
        account = accounts.create_account(
            session, f"{name}-{uuid.uuid4().hex[:8]}@example.com", credits=60
        )
        key = accounts.mint_key(session, account).plaintext
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
