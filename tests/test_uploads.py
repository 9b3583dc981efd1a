"""The TUS protocol at /v1/uploads, through real HTTP against a real server."""

from __future__ import annotations

import base64
import hashlib
import os
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

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


def test_options_advertises_the_protocol(anon: httpx.Client) -> None:
    for path in ("/v1/uploads", "/v1/uploads/01a20a01-d074-7786-9bc5-35bcaebcf301"):
        r = anon.options(path)
        assert r.status_code == 204 and r.content == b""
        assert r.headers["Tus-Resumable"] == "1.0.0" and r.headers["Tus-Version"] == "1.0.0"
        assert set(r.headers["Tus-Extension"].split(",")) == {
            "creation",
            "creation-with-upload",
            "termination",
            "expiration",
            "checksum",
        }
        assert r.headers["Tus-Max-Size"] == str(50 * 1024**3)
        assert set(r.headers["Tus-Checksum-Algorithm"].split(",")) == {
            "sha1",
            "md5",
            "sha256",
            "crc32",
        }


def test_browser_preflight_and_exposed_headers(
    anon: httpx.Client, client: httpx.Client, project: dict[str, Any]
) -> None:
    _asset, url = create_asset(client, project["id"], 1000)
    r = anon.options(
        url,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": (
                "authorization, tus-resumable, upload-offset, content-type, upload-checksum"
            ),
        },
    )
    assert r.status_code == 200
    assert "PATCH" in r.headers["Access-Control-Allow-Methods"]
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    for h in ("authorization", "tus-resumable", "upload-offset", "upload-checksum"):
        assert h in allowed
    head = client.head(url, headers={**TUS, "Origin": "https://app.example.com"})
    exposed = {h.strip().lower() for h in head.headers["Access-Control-Expose-Headers"].split(",")}
    assert {
        "location", "upload-offset", "upload-length", "upload-expires", "tus-resumable",
        "tus-version", "tus-extension", "tus-max-size", "x-request-id",
    } <= exposed  # fmt: skip


def test_head_reports_offset_length_and_expiry(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    _asset, url = create_asset(client, project["id"], len(data))
    r = client.head(url, headers=TUS)
    assert r.status_code == 200
    assert r.headers["Upload-Offset"] == "0" and r.headers["Upload-Length"] == str(len(data))
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Tus-Resumable"] == "1.0.0"
    assert "Upload-Expires" in r.headers
    assert patch(client, url, 0, data[:5000]).status_code == 204
    assert head_offset(client, url) == 5000
    r = patch(client, url, 5000, data[5000:])
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(data))
    finished = client.head(url, headers=TUS)
    assert finished.status_code == 200
    assert finished.headers["Upload-Offset"] == finished.headers["Upload-Length"] == str(len(data))


def test_a_plain_head_and_a_browsers_head_answer_alike(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    """Plain HEADs take a short way past the framework; a browser's (with Origin) goes the full
    way through CORS. Apart from CORS, both answer the same, in progress and when finished."""
    data = media["mp3"].read_bytes()
    _asset, url = create_asset(client, project["id"], len(data))
    cors = {"Origin": "https://app.example"}

    def answers() -> tuple[dict[str, str], dict[str, str]]:
        plain, browser = client.head(url, headers=TUS), client.head(url, headers=TUS | cors)
        assert plain.status_code == browser.status_code == 200
        assert browser.headers["Access-Control-Allow-Origin"] in ("*", cors["Origin"])
        return _without_cors(plain.headers), _without_cors(browser.headers)

    plain, browser = answers()
    assert plain == browser and plain["upload-offset"] == "0"
    assert patch(client, url, 0, data).status_code == 204
    plain, browser = answers()
    assert plain == browser and plain["upload-offset"] == str(len(data))


def _without_cors(headers: httpx.Headers) -> dict[str, str]:
    skip = ("access-control-", "vary", "x-request-id", "date", "server")
    return {k: v for k, v in headers.items() if not k.startswith(skip)}


def test_a_key_revoked_between_two_heads_is_refused_on_the_next(
    client: httpx.Client, project: dict[str, Any], server: Server
) -> None:
    """A key in steady use (its last use just recorded) still loses access at once."""
    _asset, url = create_asset(client, project["id"], 1000)
    key = client.post("/v1/api-keys", json={"name": "poller"}).json()
    auth = {"Authorization": f"Bearer {key['plaintext']}"}
    with httpx.Client(base_url=server.base_url, headers=auth) as poller:
        for _ in range(3):
            assert poller.head(url, headers=TUS).status_code == 200
        assert client.delete(f"/v1/api-keys/{key['id']}").status_code == 204
        refused = poller.head(url, headers=TUS)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    for missing in ("01a20a01-d074-7786-9bc5-35bcaebcf301", "not-an-id"):
        assert client.head(f"/v1/uploads/{missing}", headers=TUS).status_code == 404
    assert client.head(url, headers={"Tus-Resumable": "0.2.2"}).status_code == 412


def test_patch_moves_the_asset_to_processing_then_ready(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp4"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data), language="en")
    r = patch(client, url, 0, data[:100_000])
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "100000"
    assert "Upload-Expires" in r.headers
    mid = client.get(f"/v1/assets/{asset['id']}").json()
    assert (mid["state"], mid["type"], mid["content_type"], mid["extension"]) == (
        "pending_upload", "video", "video/mp4", "mp4",
    )  # fmt: skip
    assert mid["size_bytes"] is None and mid["upload_url"] == url
    assert patch(client, url, 100_000, data[100_000:]).status_code == 204
    after = client.get(f"/v1/assets/{asset['id']}").json()
    assert after["state"] in ("processing", "ready") and after["upload_url"] is None
    ready = wait_for_state(client, asset["id"])
    assert ready["state"] == "ready" and ready["cuttable"] is True
    assert ready["size_bytes"] == len(data) and ready["type"] == "video"
    assert 5.9 <= float(ready["duration_seconds"]) <= 6.2
    assert len(ready["duration_seconds"].split(".")[1]) == 3
    assert ready["download_url"] and ready["error_code"] is None


def test_media_without_audio_fails_processing(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["silent_mp4"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data).status_code == 204
    failed = wait_for_state(client, asset["id"])
    assert failed["state"] == "failed" and failed["error_code"] == "no_audio_stream"
    assert failed["error_message"] and failed["duration_seconds"] is None
    assert failed["cuttable"] is False and failed["download_url"] is None


def test_unreadable_media_fails_processing(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp4"].read_bytes()[:64] + media["random"].read_bytes()  # an MP4 head, then noise
    asset, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data).status_code == 204
    failed = wait_for_state(client, asset["id"])
    assert failed["state"] == "failed" and failed["error_code"] == "unreadable_media"
    assert failed["size_bytes"] == len(data) and failed["duration_seconds"] is None


@pytest.mark.parametrize("kind", ["pdf", "random", "tiny"])
def test_bad_first_chunk_is_refused_and_the_asset_is_gone(
    kind: str, client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()[:40] if kind == "tiny" else media[kind].read_bytes()
    asset, url = create_asset(client, project["id"], max(len(data), 64) + 1000)
    err = assert_envelope(patch(client, url, 0, data), 409, "conflict")
    assert "cancelled" in err["message"]
    assert_envelope(client.get(f"/v1/assets/{asset['id']}"), 404, "not_found")
    assert client.head(url, headers=TUS).status_code == 404
    assert patch(client, url, 0, data).status_code == 404
    assert asset["id"] not in [a["id"] for a in client.get("/v1/assets").json()["items"]]


def test_offset_mismatch_is_a_conflict(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    _asset, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data[:1000]).status_code == 204
    for wrong in (0, 999, 1001):
        assert_envelope(patch(client, url, wrong, data[wrong : wrong + 10]), 409, "conflict")
    assert head_offset(client, url) == 1000


def test_bytes_past_the_length_are_refused(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()[:2000]
    _asset, url = create_asset(client, project["id"], 1500)
    assert_envelope(patch(client, url, 0, data), 413, "payload_too_large")
    assert head_offset(client, url) == 0

    def chunked() -> Any:
        yield data[:1000]
        yield data[1000:]

    r = client.patch(
        url, content=chunked(), headers={**TUS, "Upload-Offset": "0", "Content-Type": OCTETS}
    )
    assert_envelope(r, 413, "payload_too_large")
    assert r.headers["Upload-Offset"] == "1500"
    assert head_offset(client, url) == 1500


def test_missing_or_wrong_headers(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    _asset, url = create_asset(client, project["id"], len(data))
    base = {"Upload-Offset": "0", "Content-Type": OCTETS}
    r = client.patch(url, content=data[:1000], headers=base)
    assert_envelope(r, 412, "precondition_failed")
    assert r.headers["Tus-Version"] == "1.0.0"
    r = client.patch(url, content=data[:1000], headers={**base, "Tus-Resumable": "0.2.2"})
    assert_envelope(r, 412, "precondition_failed")
    assert client.head(url).status_code == 412
    r = client.patch(
        url, content=data[:1000], headers={**base, **TUS, "Content-Type": "application/json"}
    )
    assert_envelope(r, 415, "unsupported_media_type")
    for offset in ("", "-1", "abc", "1.5"):
        r = client.patch(url, content=data[:1000], headers={**base, **TUS, "Upload-Offset": offset})
        assert_envelope(r, 400, "bad_request")
    r = client.patch(url, content=data[:1000], headers={**TUS, "Content-Type": OCTETS})
    assert_envelope(r, 400, "bad_request")
    assert head_offset(client, url) == 0
    assert_envelope(client.delete(url), 412, "precondition_failed")
    unauthenticated = httpx.patch(url, content=data[:1000], headers={**base, **TUS})
    assert_envelope(unauthenticated, 401, "unauthenticated")
    slash = client.options(url.rsplit("/", 1)[0] + "/")
    assert slash.status_code == 204
    for r in (unauthenticated, client.head(url, headers=TUS), slash):
        assert r.headers["Tus-Resumable"] == "1.0.0"


def _checksum(algorithm: str, data: bytes) -> str:
    if algorithm == "crc32":
        digest = zlib.crc32(data).to_bytes(4, "big")
    else:
        digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm} {base64.b64encode(digest).decode()}"


@pytest.mark.parametrize("algorithm", ["sha1", "md5", "sha256", "crc32"])
def test_checksum_extension(
    algorithm: str, client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    first, second = data[:10_000], data[10_000:]
    assert (
        patch(client, url, 0, first, Upload_Checksum=_checksum(algorithm, first)).status_code == 204
    )
    wrong = _checksum(algorithm, second + b"x")
    assert_envelope(
        patch(client, url, 10_000, second, Upload_Checksum=wrong), 460, "checksum_mismatch"
    )
    assert head_offset(client, url) == 10_000
    ok = patch(client, url, 10_000, second, Upload_Checksum=_checksum(algorithm, second))
    assert ok.status_code == 204
    assert wait_for_state(client, asset["id"])["state"] == "ready"


def test_unknown_checksum_algorithm_is_a_bad_request(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    _asset, url = create_asset(client, project["id"], len(data))
    r = patch(client, url, 0, data[:1000], Upload_Checksum="sha512 AAAA")
    assert_envelope(r, 400, "bad_request")
    r = patch(client, url, 0, data[:1000], Upload_Checksum="sha1 not*base64")
    assert_envelope(r, 400, "bad_request")
    assert head_offset(client, url) == 0


def test_delete_cancels_and_is_idempotent(
    client: httpx.Client,
    other_client: httpx.Client,
    project: dict[str, Any],
    media: dict[str, Path],
) -> None:
    data = media["mp3"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data[:1000]).status_code == 204
    assert_envelope(other_client.delete(url, headers=TUS), 404, "not_found")
    assert head_offset(client, url) == 1000
    r = client.delete(url, headers=TUS)
    assert r.status_code == 204 and r.headers["Tus-Resumable"] == "1.0.0"
    assert_envelope(client.get(f"/v1/assets/{asset['id']}"), 404, "not_found")
    assert client.delete(url, headers=TUS).status_code == 204
    assert client.delete(url.rsplit("/", 1)[0] + "/not-an-id", headers=TUS).status_code == 204


def test_delete_of_a_finished_upload_keeps_the_asset(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data).status_code == 204
    assert_envelope(client.delete(url, headers=TUS), 409, "conflict")
    assert client.get(f"/v1/assets/{asset['id']}").status_code == 200


# --- connections that break ---------------------------------------------------------------


def _wait_for_offset(client: httpx.Client, url: str, expected: int, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while (offset := head_offset(client, url)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return offset


def test_bytes_of_a_dropped_connection_are_kept(
    client: httpx.Client, api_key: str, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp4"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    sent = 150_000
    sock = raw_patch(url, api_key, 0, len(data), data[:sent])
    time.sleep(0.3)
    sock.close()
    assert _wait_for_offset(client, url, sent) == sent
    assert patch(client, url, sent, data[sent:]).status_code == 204
    ready = wait_for_state(client, asset["id"])
    assert ready["state"] == "ready"
    assert (
        hashlib.sha256(httpx.get(ready["download_url"]).content).digest()
        == hashlib.sha256(data).digest()
    )


def test_a_new_patch_takes_over_from_a_stalled_one(
    client: httpx.Client, api_key: str, project: dict[str, Any], media: dict[str, Path]
) -> None:
    """The client reconnects while the server still holds the old, silent connection."""
    data = media["mp4"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    stalled = raw_patch(url, api_key, 0, len(data), data[:120_000])
    try:
        time.sleep(0.3)
        r = patch(client, url, 0, data)  # wrong offset once the old bytes are kept
        assert_envelope(r, 409, "conflict")
        offset = head_offset(client, url)
        assert offset == 120_000
        assert patch(client, url, offset, data[offset:]).status_code == 204
    finally:
        stalled.close()
    assert wait_for_state(client, asset["id"])["state"] == "ready"


def test_concurrent_patches_never_interleave(
    client: httpx.Client, api_key: str, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp4"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    writers = [raw_patch(url, api_key, 0, len(data), data[:70_000]) for _ in range(3)]
    try:
        time.sleep(0.5)
        for w in writers:
            w.sendall(data[70_000:140_000])
        time.sleep(0.5)
    finally:
        for w in writers:
            w.close()
    time.sleep(0.5)
    offset = head_offset(client, url)
    assert offset in (70_000, 140_000)
    assert patch(client, url, offset, data[offset:]).status_code == 204
    ready = wait_for_state(client, asset["id"])
    assert (
        hashlib.sha256(httpx.get(ready["download_url"]).content).digest()
        == hashlib.sha256(data).digest()
    )


def test_method_override_for_proxies_that_block_patch(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data))
    headers = {**TUS, "Upload-Offset": "0", "Content-Type": OCTETS}
    r = client.post(
        url, content=data[:2000], headers={**headers, "X-HTTP-Method-Override": "PATCH"}
    )
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "2000"
    assert_envelope(client.post(url, headers=TUS), 405, "method_not_allowed")
    r = client.post(url, headers={**TUS, "X-HTTP-Method-Override": "DELETE"})
    assert r.status_code == 204
    assert client.get(f"/v1/assets/{asset['id']}").status_code == 404


def test_head_right_after_a_drop_reports_the_kept_bytes(
    client: httpx.Client, api_key: str, project: dict[str, Any], media: dict[str, Path]
) -> None:
    """A client aborts a big PATCH and HEADs at once: the answer already counts what arrived."""
    data = media["mp3"].read_bytes() + os.urandom(24 * 1024 * 1024)
    _, url = create_asset(client, project["id"], len(data) + 1000)
    sent = 20 * 1024 * 1024
    sock = raw_patch(url, api_key, 0, len(data), data[:sent])
    sock.close()
    assert head_offset(client, url) == sent
