"""Signed download URLs: the bytes, byte ranges, and refusals of expired or tampered links."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Server
from tests.helpers import assert_envelope, upload_bytes, wait_for_state


@pytest.fixture
def ready_asset(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> dict[str, Any]:
    asset_id = upload_bytes(client, project["id"], media["mp3"].read_bytes())
    return wait_for_state(client, asset_id)


def test_download_returns_the_stored_bytes(
    ready_asset: dict[str, Any], media: dict[str, Path]
) -> None:
    r = httpx.get(ready_asset["download_url"])
    assert r.status_code == 200
    assert r.content == media["mp3"].read_bytes()
    assert r.headers["Content-Type"] == "audio/mpeg"
    assert r.headers["Accept-Ranges"] == "bytes"


def test_each_get_mints_a_fresh_url(client: httpx.Client, ready_asset: dict[str, Any]) -> None:
    time.sleep(1.1)
    again = client.get(f"/v1/assets/{ready_asset['id']}").json()["download_url"]
    assert again != ready_asset["download_url"]
    expires = int(parse_qs(urlsplit(again).query)["expires"][0])
    assert 14 * 60 <= expires - time.time() <= 15 * 60


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, None),
        ("bytes=-50", -50, None),
        ("bytes=10-10", 10, 11),
    ],
)
def test_ranges(
    ready_asset: dict[str, Any],
    media: dict[str, Path],
    range_header: str,
    start: int,
    end: int | None,
) -> None:
    data = media["mp3"].read_bytes()
    r = httpx.get(ready_asset["download_url"], headers={"Range": range_header})
    assert r.status_code == 206
    assert r.content == data[start:end]
    first = start if start >= 0 else len(data) + start
    assert r.headers["Content-Range"] == f"bytes {first}-{first + len(r.content) - 1}/{len(data)}"


def test_unsatisfiable_range(ready_asset: dict[str, Any], media: dict[str, Path]) -> None:
    size = len(media["mp3"].read_bytes())
    r = httpx.get(ready_asset["download_url"], headers={"Range": f"bytes={size}-"})
    assert_envelope(r, 416, "range_not_satisfiable")
    assert r.headers["Content-Range"] == f"bytes */{size}"


def test_tampered_and_expired_urls_are_forbidden(
    ready_asset: dict[str, Any], server: Server
) -> None:
    url = ready_asset["download_url"]
    base, query = url.split("?")
    params = parse_qs(query)
    sig, expires = params["signature"][0], params["expires"][0]
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert_envelope(httpx.get(f"{base}?expires={expires}&signature={flipped}"), 403, "forbidden")
    assert_envelope(
        httpx.get(f"{base}?expires={int(expires) + 60}&signature={sig}"), 403, "forbidden"
    )
    assert_envelope(httpx.get(base), 403, "forbidden")
    # A correctly signed URL whose time is up (signed here with the server's own key).
    key = (server.data_dir / "secret.key").read_text().strip().encode()
    past = int(time.time()) - 1
    old = hmac.new(key, f"{ready_asset['id']}:{past}".encode(), hashlib.sha256).hexdigest()
    assert_envelope(httpx.get(f"{base}?expires={past}&signature={old}"), 403, "forbidden")
    assert httpx.get(url).status_code == 200


def test_deleted_asset_cannot_be_downloaded(
    client: httpx.Client, ready_asset: dict[str, Any]
) -> None:
    assert client.delete(f"/v1/assets/{ready_asset['id']}").status_code == 204
    assert_envelope(httpx.get(ready_asset["download_url"]), 404, "not_found")
