"""Real, unmodified TUS clients against a real server: tuspy, tus-js-client (Node) and the
upload guide's raw curl loop. Each upload ends with a ``ready`` asset whose stored object,
fetched through its signed ``download_url``, has the source file's sha256.

tus-js-client runs from ``tests/js`` (``upload.mjs``, pinned by ``package-lock.json``); the
session fixture ``tus_js`` installs it with ``npm ci`` when ``node_modules`` is missing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.uploader import Uploader

from tests.conftest import Server
from tests.helpers import OCTETS, create_asset, head_offset, wait_for_state
from tests.proxy import SlowProxy

JS_DIR = Path(__file__).resolve().parent / "js"
TUS_JS_VERSION = "4.3.1"
KIB = 1024
MIB = 1024 * KIB
SMALL_CHUNK = 16 * KIB  # the 6 s test media are 50-150 kB: several PATCHes each

# type, content_type, extension after processing, per source file
EXPECTED = {
    "mp3": ("audio", "audio/mpeg", "mp3"),
    "mp4": ("video", "video/mp4", "mp4"),
    "wav": ("audio", "audio/wav", "wav"),
}


# --- shared checks ---------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(MIB):
            digest.update(block)
    return digest.hexdigest()


def server_log(server: Server, *needles: str, last: int = 40) -> str:
    """The server's log lines that mention any of ``needles`` (for failure messages)."""
    lines = server.log_path.read_text(errors="replace").splitlines()
    hits = [line for line in lines if any(n in line for n in needles)] if needles else lines
    return "\n".join(hits[-last:])


def assert_ready_and_intact(
    client: httpx.Client,
    server: Server,
    asset_id: str,
    source: Path,
    kind: str,
    duration: float | None = 6.0,
) -> dict[str, Any]:
    """The asset reaches ``ready`` with the right metadata and its object equals ``source``."""
    asset = wait_for_state(client, asset_id, ("ready", "failed", "pending_payment"), timeout=90)
    assert asset["state"] == "ready", (asset, server_log(server, asset_id))
    type_, content_type, extension = EXPECTED[kind]
    assert (asset["type"], asset["content_type"], asset["extension"]) == (
        type_,
        content_type,
        extension,
    ), asset
    assert asset["size_bytes"] == source.stat().st_size, asset
    assert asset["upload_url"] is None and asset["cuttable"] is True, asset
    seconds = asset["duration_seconds"]
    assert isinstance(seconds, str) and len(seconds.rpartition(".")[2]) == 3, asset
    if duration is not None:
        assert abs(float(seconds) - duration) < 0.5, asset

    download_url = urljoin(server.base_url, asset["download_url"])
    digest = hashlib.sha256()
    with httpx.stream("GET", download_url, timeout=60) as r:  # signed: no Authorization
        assert r.status_code == 200, r.read()
        for block in r.iter_bytes(MIB):
            digest.update(block)
    assert digest.hexdigest() == sha256_file(source), (
        "stored object differs from the source",
        server_log(server, asset_id),
    )
    return asset


# --- tuspy -----------------------------------------------------------------------------------


def tuspy_uploader(
    api_key: str, path: Path, upload_url: str, chunk_size: int, **options: Any
) -> Uploader:
    # The upload guide's snippet passes `headers=` to Uploader, which tuspy 1.1 rejects
    # (TypeError: unexpected keyword argument 'headers'): an Uploader takes its headers from
    # a TusClient. With `url=` it never POSTs; it HEADs that URL for the offset at once.
    tus = TusClient(upload_url, headers={"Authorization": f"Bearer {api_key}"})
    return Uploader(str(path), url=upload_url, client=tus, chunk_size=chunk_size, **options)


@pytest.mark.parametrize(
    ("kind", "checksum"),
    [("mp3", False), ("mp4", False), ("mp4", True)],
    ids=["mp3", "mp4", "mp4-sha1-checksums"],
)
def test_tuspy_uploads_real_media_in_small_chunks(
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    media: dict[str, Path],
    kind: str,
    checksum: bool,
) -> None:
    source = media[kind]
    size = source.stat().st_size
    assert size > 3 * SMALL_CHUNK  # several PATCHes
    asset, url = create_asset(client, project["id"], size)

    uploader = tuspy_uploader(api_key, source, url, SMALL_CHUNK, upload_checksum=checksum)
    assert uploader.offset == 0  # it HEADed the fresh upload
    uploader.upload()
    assert uploader.offset == size

    assert_ready_and_intact(client, server, asset["id"], source, kind)


def test_tuspy_interrupted_upload_resumes_with_a_new_uploader(
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    media: dict[str, Path],
) -> None:
    source = media["mp4"]
    size = source.stat().st_size
    asset, url = create_asset(client, project["id"], size)
    stop = 2 * SMALL_CHUNK + 12_345  # mid-chunk: the last PATCH of the first run is short

    first = tuspy_uploader(api_key, source, url, SMALL_CHUNK)
    first.upload(stop_at=stop)
    assert first.offset == stop
    assert head_offset(client, url) == stop
    assert client.get(f"/v1/assets/{asset['id']}").json()["state"] == "pending_upload"

    second = tuspy_uploader(api_key, source, url, SMALL_CHUNK)
    assert second.offset == stop  # the constructor HEADs for the server's offset
    second.upload()
    assert second.offset == size

    assert_ready_and_intact(client, server, asset["id"], source, "mp4")


# --- tus-js-client under Node ----------------------------------------------------------------


@pytest.fixture(scope="session")
def tus_js() -> Path:
    """tests/js/upload.mjs with tus-js-client installed from the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(
            "node and npm are required for the tus-js-client tests (Node >= 18); "
            f"found node={node!r}, npm={npm!r}",
            pytrace=False,
        )
    installed = JS_DIR / "node_modules" / "tus-js-client" / "package.json"
    version = json.loads(installed.read_text())["version"] if installed.exists() else None
    if version != TUS_JS_VERSION:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            pytest.fail(
                f"`npm ci` in {JS_DIR} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}",
                pytrace=False,
            )
    return JS_DIR / "upload.mjs"


def run_tus_js(
    tus_js: Path,
    server: Server,
    path: Path,
    upload_url: str | None,
    api_key: str,
    *,
    chunk_size: int | None = None,
    source: str = "stream",
    abort_after: int | None = None,
    retry_delays: str = "none",
    endpoint: str | None = None,
    metadata: dict[str, str] | None = None,
    origin: str | None = None,
    data_during_creation: bool = False,
) -> dict[str, Any]:
    """Run upload.mjs; by default with retries off, so a server error fails the upload."""
    cmd = ["node", str(tus_js), "--file", str(path), "--key", api_key]
    cmd += ["--url", upload_url] if upload_url else ["--endpoint", str(endpoint)]
    cmd += ["--source", source, "--retry-delays", retry_delays]
    if chunk_size is not None:
        cmd += ["--chunk-size", str(chunk_size)]
    if abort_after is not None:
        cmd += ["--abort-after", str(abort_after)]
    if metadata is not None:
        cmd += ["--metadata", json.dumps(metadata)]
    if origin is not None:
        cmd += ["--origin", origin]
    if data_during_creation:
        cmd += ["--data-during-creation"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tus_js.parent)
    lines = done.stdout.strip().splitlines()
    assert lines, (done.returncode, done.stderr)
    result: dict[str, Any] = json.loads(lines[-1])
    upload_id = (upload_url or result.get("uploadUrl") or "").rstrip("/").rpartition("/")[2]
    if done.returncode != 0 or not result["success"]:
        pytest.fail(
            f"tus-js-client failed:\n{json.dumps(result, indent=1)}\n{done.stderr}\n"
            f"server log:\n{server_log(server, upload_id or 'uploads')}"
        )
    assert result["bytesUploaded"] == path.stat().st_size, result
    return result


def patches(result: dict[str, Any], phase: int | None = None) -> list[dict[str, Any]]:
    return [
        r
        for r in result["requests"]
        if r["method"] == "PATCH" and (phase is None or r["phase"] == phase)
    ]


def assert_contiguous(patch_log: list[dict[str, Any]], start: int, size: int) -> None:
    """Every PATCH was a 204 that continued exactly where the previous one ended."""
    offset = start
    for p in patch_log:
        assert p["status"] == 204, patch_log
        assert int(p["requestOffset"]) == offset, patch_log
        assert int(p["responseOffset"]) > offset, patch_log
        offset = int(p["responseOffset"])
    assert offset == size, patch_log


@pytest.mark.parametrize(
    ("kind", "source"),
    [("mp4", "stream"), ("mp3", "buffer")],
    ids=["mp4-fs-readstream", "mp3-buffer"],
)
def test_tus_js_client_default_chunk_size_sends_one_patch(
    tus_js: Path,
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    media: dict[str, Path],
    kind: str,
    source: str,
) -> None:
    path = media[kind]
    size = path.stat().st_size
    asset, url = create_asset(client, project["id"], size)

    # chunkSize left at tus-js-client's default (Infinity): the whole file in one PATCH, read
    # from an fs.ReadStream (streamed) or handed over as a Buffer.
    result = run_tus_js(tus_js, server, path, url, api_key, source=source)

    head = [r for r in result["requests"] if r["method"] == "HEAD"]
    assert [(h["status"], h["responseOffset"], h["uploadLength"]) for h in head] == [
        (200, "0", str(size))
    ], result
    assert len(patches(result)) == 1, result
    assert_contiguous(patches(result), 0, size)
    assert_ready_and_intact(client, server, asset["id"], path, kind)


def test_tus_js_client_small_chunks(
    tus_js: Path,
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    media: dict[str, Path],
) -> None:
    path = media["mp4"]
    size = path.stat().st_size
    asset, url = create_asset(client, project["id"], size)

    result = run_tus_js(tus_js, server, path, url, api_key, chunk_size=SMALL_CHUNK)

    assert len(patches(result)) == math.ceil(size / SMALL_CHUNK) >= 3, result
    assert_contiguous(patches(result), 0, size)
    assert_ready_and_intact(client, server, asset["id"], path, "mp4")


def test_tus_js_client_resumes_after_abort_with_small_chunks(
    tus_js: Path,
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    media: dict[str, Path],
) -> None:
    path = media["mp4"]
    size = path.stat().st_size
    asset, url = create_asset(client, project["id"], size)

    result = run_tus_js(
        tus_js, server, path, url, api_key, chunk_size=SMALL_CHUNK, abort_after=size // 2
    )

    assert result["aborted"], result
    resumed = result["resumedFrom"]
    assert 0 < resumed < size and resumed <= result["abortedAt"], result
    phase2 = patches(result, phase=2)
    assert phase2, result
    assert_contiguous(phase2, resumed, size)
    assert_ready_and_intact(client, server, asset["id"], path, "mp4")


@pytest.mark.parametrize("retry_delays", ["none", "default"], ids=["no-retries", "default-retries"])
def test_tus_js_client_resumes_after_abort_mid_patch_of_a_big_file(
    tus_js: Path,
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    big_wav: Path,
    retry_delays: str,
) -> None:
    """Default chunk size on a 128 MiB file, aborted inside its one PATCH: the server keeps
    what it received, and a new Upload on the same uploadUrl HEADs and sends the rest.

    no-retries: the resuming Upload's HEAD must already report the kept bytes (the server
    settles the dropped PATCH before answering, as tusd's HEAD does by taking the upload lock),
    so its single PATCH continues from there. default-retries: tus-js-client exactly as
    shipped (retryDelays [0, 1000, 3000, 5000]) must finish the upload."""
    size = big_wav.stat().st_size
    asset, url = create_asset(client, project["id"], size)

    result = run_tus_js(
        tus_js, server, big_wav, url, api_key, abort_after=24 * MIB, retry_delays=retry_delays
    )

    assert result["aborted"], result
    assert patches(result, phase=1) == [], result  # the first PATCH never got its response
    phase2 = patches(result, phase=2)
    assert phase2 and phase2[-1]["status"] == 204, result
    assert phase2[-1]["responseOffset"] == str(size), result
    if retry_delays == "none":
        resumed = result["resumedFrom"]
        assert 0 < resumed < size and resumed <= result["abortedAt"], result
        assert_contiguous(phase2, resumed, size)
    assert_ready_and_intact(client, server, asset["id"], big_wav, "wav", duration=760.0)


# --- the upload guide's raw curl loop --------------------------------------------------------

# The guide's "Raw cURL" section as a script, unchanged except for:
#  - the values come from the environment (HEADERS_FILE replaces /tmp/roughy-headers.txt);
#  - `stat -c%s` (Linux), as the guide's comment says;
#  - `set -eu`, so a failing `curl -sf` stops the script instead of the loop advancing OFFSET
#    past a rejected chunk (no pipefail: `tail` dies of SIGPIPE once `head` has its bytes);
#  - UPLOAD_URL given: skip step 1 and resume from the HEAD offset, exactly as the guide shows;
#  - MAX_CHUNKS=n: stop after n PATCHes, i.e. an interrupted run.
CURL_LOOP = r"""#!/usr/bin/env bash
set -eu
TOKEN="$ROUGHY_TOKEN"
API="$ROUGHY_API"
PROJECT_ID="$ROUGHY_PROJECT_ID"
FILE="$ROUGHY_FILE"
CHUNK_SIZE=$((64 * 1024 * 1024))   # 64 MiB

SIZE=$(stat -c%s "$FILE")

if [ -z "${UPLOAD_URL:-}" ]; then
  # 1. Create the asset — the asset is the body, the transfer URL is the
  #    Location header. -D dumps the response headers so we can read it.
  BODY=$(curl -sf -X POST "$API/v1/assets" \
    -D "$HEADERS_FILE" \
    -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" \
    -d "{\"project_id\":\"$PROJECT_ID\",\"size_bytes\":$SIZE}")

  ASSET_ID=$(echo "$BODY" | jq -r '.id')
  UPLOAD_URL=$(awk -F': ' 'tolower($1) == "location" { gsub(/\r/, "", $2); print $2 }' \
    "$HEADERS_FILE")
  OFFSET=0
else
  # Resume after an aborted run: ask the server for the current offset with HEAD.
  OFFSET=$(curl -sf -I -X HEAD "$UPLOAD_URL" \
    -H "Authorization: Bearer $TOKEN" \
    -H "Tus-Resumable: 1.0.0" \
    | awk -F': ' 'tolower($1) == "upload-offset" { gsub(/\r/, "", $2); print $2 }')
  : "${OFFSET:?HEAD returned no Upload-Offset}"
  echo "Resume from offset $OFFSET"
fi
echo "UPLOAD_URL=$UPLOAD_URL"

# 2. PATCH chunks to the pre-allocated TUS URL.
CHUNKS=0
while [ $OFFSET -lt $SIZE ]; do
  if [ -n "${MAX_CHUNKS:-}" ] && [ $CHUNKS -ge "$MAX_CHUNKS" ]; then break; fi
  REMAINING=$((SIZE - OFFSET))
  THIS=$((REMAINING < CHUNK_SIZE ? REMAINING : CHUNK_SIZE))
  tail -c +$((OFFSET + 1)) "$FILE" | head -c "$THIS" | \
    curl -sf -X PATCH "$UPLOAD_URL" \
      -H "Authorization: Bearer $TOKEN" \
      -H "Tus-Resumable: 1.0.0" \
      -H "Upload-Offset: $OFFSET" \
      -H "Content-Type: application/offset+octet-stream" \
      -H "Content-Length: $THIS" \
      --data-binary @-
  OFFSET=$((OFFSET + THIS))
  CHUNKS=$((CHUNKS + 1))
done

echo "Uploaded $OFFSET / $SIZE bytes; asset_id=${ASSET_ID:-}"
"""


@pytest.fixture(scope="session")
def big_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real ~128 MiB WAV (12:40 of pink noise): two chunks of the guide's 64 MiB loop."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is required"
    path = tmp_path_factory.mktemp("big") / "big.wav"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "anoisesrc=d=760:c=pink:r=44100", "-ac", "2", "-c:a", "pcm_s16le", str(path)],
        check=True,
    )  # fmt: skip
    assert path.stat().st_size > 64 * MIB  # two PATCHes of the curl loop
    return path


@pytest.fixture(scope="session")
def curl_loop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("bash", "curl", "jq", "awk", "stat", "tail", "head"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required for the upload guide's curl loop", pytrace=False)
    path = tmp_path_factory.mktemp("guide") / "upload.sh"
    path.write_text(CURL_LOOP)
    return path


def run_curl_loop(
    curl_loop: Path,
    server: Server,
    api_key: str,
    project_id: str,
    path: Path,
    tmp_path: Path,
    **env: str,
) -> dict[str, str]:
    environ = {
        **os.environ,
        "ROUGHY_TOKEN": api_key,
        "ROUGHY_API": server.base_url,
        "ROUGHY_PROJECT_ID": project_id,
        "ROUGHY_FILE": str(path),
        "HEADERS_FILE": str(tmp_path / "roughy-headers.txt"),
        **env,
    }
    done = subprocess.run(
        ["bash", str(curl_loop)], env=environ, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr, server_log(server))
    out: dict[str, str] = {}
    for line in done.stdout.splitlines():
        if line.startswith("UPLOAD_URL="):
            out["upload_url"] = line.partition("=")[2]
        elif line.startswith("Resume from offset "):
            out["resumed_from"] = line.rpartition(" ")[2]
        elif line.startswith("Uploaded "):
            sent, _, rest = line.removeprefix("Uploaded ").partition(" / ")
            total, _, asset_id = rest.partition("; asset_id=")
            out |= {"offset": sent, "size": total.removesuffix(" bytes"), "asset_id": asset_id}
    return out


def test_guide_curl_loop_uploads_a_big_file_in_64_mib_chunks(
    curl_loop: Path,
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    big_wav: Path,
    tmp_path: Path,
) -> None:
    size = big_wav.stat().st_size
    out = run_curl_loop(curl_loop, server, api_key, project["id"], big_wav, tmp_path)

    assert out["offset"] == out["size"] == str(size), out
    assert head_offset(client, out["upload_url"]) == size  # a finished upload still answers
    assert_ready_and_intact(client, server, out["asset_id"], big_wav, "wav", duration=760.0)


def test_guide_curl_loop_resumes_from_the_head_offset(
    curl_loop: Path,
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    big_wav: Path,
    tmp_path: Path,
) -> None:
    size = big_wav.stat().st_size
    first = run_curl_loop(
        curl_loop, server, api_key, project["id"], big_wav, tmp_path, MAX_CHUNKS="1"
    )
    assert first["offset"] == str(64 * MIB), first
    asset_id = first["asset_id"]

    # The run was cut short; recover the URL as the guide shows, from the asset itself.
    pending = client.get(f"/v1/assets/{asset_id}").json()
    assert pending["state"] == "pending_upload", pending
    assert pending["upload_url"] == first["upload_url"], pending
    assert head_offset(client, pending["upload_url"]) == 64 * MIB

    second = run_curl_loop(
        curl_loop,
        server,
        api_key,
        project["id"],
        big_wav,
        tmp_path,
        UPLOAD_URL=pending["upload_url"],
    )
    assert second["resumed_from"] == str(64 * MIB), second
    assert second["offset"] == second["size"] == str(size), second
    assert_ready_and_intact(client, server, asset_id, big_wav, "wav", duration=760.0)


# --- a PATCH taken over by another: told so, stopped, and resumed ----------------------------


def _upload_file(server: Server, upload_url: str) -> Path:
    return server.data_dir / "blobs" / "uploads" / upload_url.rpartition("/")[2]


def _wait_until_written(server: Server, upload_url: str, size: int) -> None:
    """Until the server has written at least ``size`` bytes of the upload (its PATCH runs)."""
    path = _upload_file(server, upload_url)
    deadline = time.monotonic() + 60
    while not path.exists() or path.stat().st_size < size:
        assert time.monotonic() < deadline, "the upload's PATCH never got going"
        time.sleep(0.02)


def _take_over(server: Server, api_key: str, upload_url: str) -> httpx.Response:
    """Another PATCH on the upload, from offset 0 (as a second tab would): it takes the upload
    over from the running one, then hears that the offset moved on."""
    with httpx.Client(headers={"Authorization": f"Bearer {api_key}"}, timeout=60) as c:
        r = c.patch(
            upload_url,
            content=b"\0" * 1000,
            headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": OCTETS},
        )
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict", r.text
    return r


def test_two_racing_curl_patches_leave_the_loser_stopped_with_an_error(
    curl_loop: Path,
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    big_wav: Path,
    tmp_path: Path,
) -> None:
    """A curl sending the whole file at 4 MB/s (half a minute of body) is taken over by a
    second: it gets 409 upload_interrupted with the offset kept, and stops sending at once;
    the guide's loop then resumes from HEAD."""
    size = big_wav.stat().st_size
    asset, url = create_asset(client, project["id"], size)
    out, headers = tmp_path / "body.json", tmp_path / "headers.txt"
    slow = subprocess.Popen(
        ["curl", "-sS", "-o", str(out), "-D", str(headers), "-w", "%{http_code} %{size_upload}",
         "-X", "PATCH", url, "-T", str(big_wav), "--limit-rate", "4M",
         "-H", f"Authorization: Bearer {api_key}", "-H", "Tus-Resumable: 1.0.0",
         "-H", "Upload-Offset: 0", "-H", f"Content-Type: {OCTETS}", "-H", "Expect:"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        _wait_until_written(server, url, 8 * MIB)
        _take_over(server, api_key, url)
        # Stopped, not drained: it ends long before the 30 s its whole body would take.
        stdout, _ = slow.communicate(timeout=15)
    finally:
        slow.kill()
    status, uploaded = stdout.split()
    assert status == "409" and int(uploaded) < size, stdout
    answer = json.loads(out.read_text())
    assert answer["error"]["code"] == "upload_interrupted", answer
    kept = next(
        int(line.partition(":")[2])
        for line in headers.read_text().splitlines()
        if line.lower().startswith("upload-offset:")
    )
    assert kept >= 8 * MIB and head_offset(client, url) == kept

    resumed = run_curl_loop(
        curl_loop, server, api_key, project["id"], big_wav, tmp_path, UPLOAD_URL=url
    )
    assert resumed["resumed_from"] == str(kept), resumed
    assert_ready_and_intact(client, server, asset["id"], big_wav, "wav", duration=760.0)


def test_tuspy_taken_over_mid_patch_resumes(
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    big_wav: Path,
) -> None:
    size = big_wav.stat().st_size
    asset, url = create_asset(client, project["id"], size)
    proxy = SlowProxy(("127.0.0.1", int(urlsplit(server.base_url).port or 80)), rate=4 * MIB)
    try:
        proxied = proxy.url(urlsplit(url).path)
        uploader = tuspy_uploader(api_key, big_wav, proxied, size, retries=3, retry_delay=0)
        errors: list[BaseException] = []
        thread = threading.Thread(target=_run_catching, args=(uploader.upload, errors))
        thread.start()
        _wait_until_written(server, url, 8 * MIB)
        _take_over(server, api_key, url)
        proxy.slow.clear()  # the rest at full speed
        thread.join(120)
        assert not thread.is_alive() and not errors, errors
    finally:
        proxy.close()
    assert uploader.offset == size
    assert_ready_and_intact(client, server, asset["id"], big_wav, "wav", duration=760.0)


def _run_catching(work: Any, errors: list[BaseException]) -> None:
    try:
        work()
    except BaseException as exc:  # the test reports it
        errors.append(exc)


def test_tus_js_client_taken_over_mid_patch_resumes(
    tus_js: Path,
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    big_wav: Path,
) -> None:
    size = big_wav.stat().st_size
    asset, url = create_asset(client, project["id"], size)
    proxy = SlowProxy(("127.0.0.1", int(urlsplit(server.base_url).port or 80)), rate=4 * MIB)
    results: list[dict[str, Any]] = []
    try:
        proxied = proxy.url(urlsplit(url).path)
        thread = threading.Thread(
            target=lambda: results.append(
                run_tus_js(tus_js, server, big_wav, proxied, api_key, retry_delays="0,200,500")
            )
        )
        thread.start()
        _wait_until_written(server, url, 8 * MIB)
        _take_over(server, api_key, url)
        proxy.slow.clear()
        thread.join(150)
    finally:
        proxy.close()
    assert results, "tus-js-client did not finish"
    sent = patches(results[0])
    interrupted = sent[0]
    assert interrupted["status"] == 409 and int(interrupted["responseOffset"]) >= 8 * MIB, sent
    assert_contiguous(sent[1:], int(interrupted["responseOffset"]), size)
    assert_ready_and_intact(client, server, asset["id"], big_wav, "wav", duration=760.0)


# --- TUS creation from the clients -----------------------------------------------------------


def test_tuspy_default_creation_flow(
    client: httpx.Client,
    server: Server,
    api_key: str,
    project: dict[str, Any],
    media: dict[str, Path],
) -> None:
    """tuspy as its README shows it: a TusClient on the endpoint, an uploader with metadata."""
    source = media["mp4"]
    tus = TusClient(server.base_url + "/v1/uploads", headers={"Authorization": f"Bearer {api_key}"})
    uploader = tus.uploader(
        str(source),
        chunk_size=SMALL_CHUNK,
        metadata={"project_id": project["id"], "filename": "Zoë's take.mp4"},
    )
    uploader.upload()
    asset_id = str(uploader.url).rpartition("/")[2]
    asset = assert_ready_and_intact(client, server, asset_id, source, "mp4")
    assert asset["filename"] == "Zoë's take.mp4"


@pytest.mark.parametrize("during_creation", [False, True], ids=["creation", "with-upload"])
def test_tus_js_client_with_endpoint_and_an_upload_token_from_another_origin(
    tus_js: Path,
    client: httpx.Client,
    server: Server,
    project: dict[str, Any],
    media: dict[str, Path],
    during_creation: bool,
) -> None:
    """A web page's upload: its server asks for an upload token (with its key), the page's
    tus-js-client uploads with `endpoint:` and the token, sending the page's Origin; it never
    sees the key. Every answer carries the CORS headers a browser needs."""
    path = media["mp4"]
    size = path.stat().st_size
    r = client.post(
        "/v1/assets", json={"project_id": project["id"], "size_bytes": size, "upload_token": True}
    )
    asset, token = r.json(), r.json()["upload_token"]
    origin = "https://recorder.example"
    result = run_tus_js(
        tus_js,
        server,
        path,
        None,
        token,
        endpoint=server.base_url + "/v1/uploads",
        metadata={"filename": "Récit — take 2.mp4", "filetype": "video/mp4"},
        origin=origin,
        chunk_size=SMALL_CHUNK,
        data_during_creation=during_creation,
    )
    post = [req for req in result["requests"] if req["method"] == "POST"]
    assert [p["status"] for p in post] == [201] and post[0]["location"] == asset["upload_url"]
    for req in result["requests"]:
        assert req["allowOrigin"] in ("*", origin), req
        assert "upload-offset" in req["exposeHeaders"].lower(), req
    ready = assert_ready_and_intact(client, server, asset["id"], path, "mp4")
    assert ready["filename"] == "Récit — take 2.mp4"
