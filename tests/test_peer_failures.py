"""The failures that ../shared/research/tus-peer-bench.md reproduced in peer TUS servers, each as
a test of ours: nothing here may go the way it went there."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Server
from tests.helpers import (
    OCTETS,
    TUS,
    assert_envelope,
    create_asset,
    head_offset,
    patch,
    raw_patch,
    wait_for_state,
)


def _upload_file(server: Server, url: str) -> Path:
    return server.data_dir / "blobs" / "uploads" / url.rsplit("/", 1)[1]


def test_a_second_patch_in_flight_never_stalls_other_requests(
    client: httpx.Client, api_key: str, project: dict[str, Any], media: dict[str, Path]
) -> None:
    """A peer answered a HEAD on another upload after 30 s while two PATCHes met on one."""
    data = media["mp4"].read_bytes()
    _, url = create_asset(client, project["id"], len(data))
    _, other_url = create_asset(client, project["id"], len(data))
    assert patch(client, other_url, 0, data[:70_000]).status_code == 204
    first = raw_patch(url, api_key, 0, len(data), data[:70_000])
    second = raw_patch(url, api_key, 0, len(data), data[:70_000])
    try:
        with httpx.Client(
            base_url=str(client.base_url), headers=client.headers, timeout=5
        ) as quick:  # a stall shows as a timeout here
            assert head_offset(quick, other_url) == 70_000
            assert quick.get("/v1/users/me").status_code == 200
            assert quick.get(f"/v1/projects/{project['id']}").status_code == 200
    finally:
        first.close()
        second.close()


def test_an_overlong_patch_stores_nothing_and_a_retry_gives_the_right_file(
    client: httpx.Client, server: Server, project: dict[str, Any], media: dict[str, Path]
) -> None:
    """A peer left the refused bytes on disk, and the compliant retry built a corrupt file."""
    data = media["mp3"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    too_long = data + b"\0" * 4096
    assert_envelope(patch(client, url, 0, too_long), 413, "payload_too_large")
    assert head_offset(client, url) == 0
    stored = _upload_file(server, url)
    assert not stored.exists() or stored.stat().st_size == 0
    assert patch(client, url, 0, data).status_code == 204
    ready = wait_for_state(client, asset["id"])
    assert ready["size_bytes"] == len(data)
    downloaded = httpx.get(ready["download_url"]).content
    assert hashlib.sha256(downloaded).digest() == hashlib.sha256(data).digest()


def test_headers_are_checked_before_any_byte_is_stored(
    client: httpx.Client, server: Server, project: dict[str, Any], media: dict[str, Path]
) -> None:
    """A peer stored a refused PATCH's body (wrong Content-Type, no Tus-Resumable) anyway."""
    data = media["mp3"].read_bytes()
    _, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data[:10_000]).status_code == 204
    chunk = data[10_000:20_000]
    refused = [
        ({**TUS, "Upload-Offset": "10000", "Content-Type": "application/json"}, 415),
        ({"Upload-Offset": "10000", "Content-Type": OCTETS}, 412),
        ({**TUS, "Upload-Offset": "5000", "Content-Type": OCTETS}, 409),
        ({**TUS, "Content-Type": OCTETS}, 400),
    ]
    for headers, status in refused:
        assert client.patch(url, headers=headers, content=chunk).status_code == status, headers
        assert head_offset(client, url) == 10_000
        assert _upload_file(server, url).stat().st_size == 10_000


def test_uploads_without_metadata_and_an_empty_metadata_header_work(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    """A peer's HEAD answered 400 for uploads made without metadata, or with an empty header."""
    data = media["mp3"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    empty = {**TUS, "Upload-Metadata": ""}
    assert client.head(url, headers=empty).status_code == 200
    r = client.patch(
        url, headers={**empty, "Upload-Offset": "0", "Content-Type": OCTETS}, content=data[:5000]
    )
    assert r.status_code == 204
    assert client.head(url, headers=TUS).headers["Upload-Offset"] == "5000"
    assert patch(client, url, 5000, data[5000:]).status_code == 204
    assert wait_for_state(client, asset["id"])["state"] == "ready"


def test_two_clients_on_one_upload_never_interleave_and_the_loser_recovers_by_head(
    server: Server,
    api_key: str,
    client: httpx.Client,
    project: dict[str, Any],
    media: dict[str, Path],
) -> None:
    """Both send the whole file from offset 0 at once: one is taken, the other hears 409 or 423
    (or, taken over mid-body, has its connection closed), asks HEAD where the upload stands, and
    sends the rest; a 204 only ever answers a PATCH that stored all it sent; the file is the
    source."""
    data = media["mp4"].read_bytes() * 40  # a few MiB: long enough for the two to meet
    asset, url = create_asset(client, project["id"], len(data))
    barrier = threading.Barrier(2)
    answers: list[list[int]] = [[], []]

    def upload(me: int) -> None:
        with httpx.Client(headers=client.headers, timeout=60) as c:
            barrier.wait()
            offset = 0
            while offset < len(data):
                try:
                    r = c.patch(
                        url,
                        headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OCTETS},
                        content=data[offset:],
                    )
                except httpx.TransportError:
                    # Taken over: the server closed the connection while this client (which
                    # reads no answer before it has sent all) was still sending.
                    answers[me].append(409)
                    offset = head_offset(c, url)
                    continue
                answers[me].append(r.status_code)
                if r.status_code == 204:  # only ever for a PATCH that stored all it sent
                    offset = int(r.headers["Upload-Offset"])
                    assert offset == len(data), r.headers
                    continue
                assert r.status_code in (409, 423), r.text
                offset = head_offset(c, url)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(answers), answers
    assert any(409 in a or 423 in a for a in answers), answers
    ready = wait_for_state(client, asset["id"])
    downloaded = httpx.get(ready["download_url"]).content
    assert hashlib.sha256(downloaded).digest() == hashlib.sha256(data).digest()
