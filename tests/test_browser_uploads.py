"""Issue 21's done-when in a real browser: Uppy, in a plain HTML page on another origin, uploads
a recording with ``endpoint:`` and an upload token, never seeing the account's key; the asset
has the file's name and downloads under it; the token cannot read the asset."""

from __future__ import annotations

import hashlib
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest

from tests.browser import StaticSite, playwright_sync
from tests.conftest import Server, ffmpeg

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="uppy/uppy.min.css"></head>
<body>
<input type="file" id="file">
<pre id="status">idle</pre>
<pre id="probe"></pre>
<script src="uppy/uppy.min.js"></script>
<script>
  // What the page's own server handed it: the API's upload endpoint and an upload token.
  const params = new URLSearchParams(location.search);
  const endpoint = params.get("endpoint"), token = params.get("token");
  const status = document.getElementById("status");
  const uppy = new Uppy.Uppy({ autoProceed: true }).use(Uppy.Tus, {
    endpoint,
    headers: { Authorization: `Bearer ${token}` },
    chunkSize: 256 * 1024,
    retryDelays: [0, 500, 1000, 2000],
  });
  uppy.on("upload-progress", (file, p) => { status.textContent = `sent ${p.bytesUploaded}`; });
  uppy.on("upload-success", (file, response) => {
    status.textContent = `done ${response.uploadURL}`;
  });
  uppy.on("upload-error", (file, error) => { status.textContent = `error ${error}`; });
  document.getElementById("file").addEventListener("change", (event) => {
    for (const f of event.target.files) uppy.addFile({ name: f.name, type: f.type, data: f });
  });
  // What else the token may do from here: read the asset? (it must not)
  window.probe = async (url) => {
    const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    return r.status;
  };
</script>
</body></html>
"""

NAME = "Entretien – café «take 2».mp3"


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """A 20-second MP3 (about 320 KB): several of the page's 256 KiB chunks."""
    path = tmp_path / NAME
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:duration=20", "-b:a", "128k", str(path))
    return path


def _settled(client: httpx.Client, asset_id: str) -> dict[str, object]:
    """The asset once it has left ``uploading`` and ``processing``."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        asset: dict[str, object] = client.get(f"/v1/assets/{asset_id}").json()
        if asset["state"] not in ("uploading", "processing"):
            return asset
        time.sleep(0.3)
    raise AssertionError(f"the asset stayed {asset['state']}")


def test_uppy_on_another_origin_uploads_with_endpoint_and_an_upload_token(
    server: Server,
    client: httpx.Client,
    api_key: str,
    project: dict[str, object],
    recording: Path,
    static_site: StaticSite,
    page: playwright_sync.Page,
) -> None:
    # The page's own server makes the asset with the key, and hands the page only the token.
    made = client.post(
        "/v1/assets",
        json={
            "project_id": project["id"],
            "size_bytes": recording.stat().st_size,
            "upload_token": True,
        },
    )
    assert made.status_code == 201, made.text
    asset_id, token = made.json()["id"], made.json()["upload_token"]
    assert token.startswith("ut_")

    (static_site.root / "index.html").write_text(PAGE)
    query = urllib.parse.urlencode({"endpoint": f"{server.base_url}/v1/uploads", "token": token})
    sent_headers: list[str] = []
    page.on("request", lambda r: sent_headers.extend(r.all_headers().values()))
    page.goto(f"{static_site.base_url}/index.html?{query}")
    page.set_input_files("#file", str(recording))
    page.wait_for_function(
        "document.getElementById('status').textContent.match(/^(done|error)/)", timeout=120_000
    )
    status = page.inner_text("#status")
    assert status == f"done {server.base_url}/v1/uploads/{asset_id}", status

    # The key never reached the page; the token cannot read the asset or list anything.
    assert not any(api_key in value for value in sent_headers)
    assert any(token in value for value in sent_headers)
    assert page.evaluate("probe", f"{server.base_url}/v1/assets/{asset_id}") == 401
    assert page.evaluate("probe", f"{server.base_url}/v1/assets") == 401

    # The asset is the recording, named as the file, and downloads under that name.
    asset = _settled(client, asset_id)
    assert asset["state"] == "ready", asset
    assert asset["filename"] == NAME
    download = httpx.get(str(asset["download_url"]), timeout=30)
    assert download.status_code == 200
    assert (
        hashlib.sha256(download.content).digest() == hashlib.sha256(recording.read_bytes()).digest()
    )
    disposition = download.headers["content-disposition"]
    assert "filename*=UTF-8''" + urllib.parse.quote(NAME, safe="") in disposition
