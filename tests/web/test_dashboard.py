"""Issue 22's dashboard, end to end in Debian's Chromium: sign in with a key, make a project,
upload a spoken recording with Uppy (the page reloaded mid-upload, the upload resumed from the
server's offset), see it ready, refuse a PDF with the server's message, cut it with a script,
review the reasons, keep the other take, render, download and compare, export. A screenshot of
each page goes to ``test-artifacts/`` (and to ``docs/dashboard/`` with
``ROUGHY_DOCS_SCREENSHOTS=1``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import ARTIFACTS, playwright_sync
from tests.conftest import ROOT, Server, ffmpeg
from tests.spoken import speak

LINE = "The quick brown fox jumps over the lazy dog."
SCRIPT = LINE + "\nA line nobody ever says."
CHUNK = 256 * 1024
DOCS = ROOT / "docs" / "dashboard"


def shot(page: playwright_sync.Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("ROUGHY_DOCS_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / f"{name}.png")


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Take one of the line, chatter, then take two with an "um": as 48 kHz stereo WAV (about
    2.4 MB, ten of the page's chunks)."""
    d = tmp_path_factory.mktemp("dashboard")
    speak(
        [0.5, LINE, 1.5, "Sorry, let me do that again.", 1.2,
         "The quick brown fox", 0.35, "um", 0.35, "jumps over the lazy dog.", 0.8],
        d / "spoken.wav",
    )  # fmt: skip
    out = d / "talk.wav"
    ffmpeg("-i", str(d / "spoken.wav"), "-ar", "48000", "-ac", "2", str(out))
    return out


def duration(path: Path) -> float:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    return float(json.loads(probe.stdout)["format"]["duration"])


def offset_of(client: httpx.Client, project_id: str) -> int:
    """The bytes the server holds of the project's one upload (0 before it exists)."""
    items = client.get("/v1/assets", params={"project_id": project_id}).json()["items"]
    if not items:
        return 0
    r = client.head(f"/v1/uploads/{items[0]['id']}", headers={"Tus-Resumable": "1.0.0"})
    return int(r.headers.get("Upload-Offset", 0))


def until(page: playwright_sync.Page, check: Any, what: str, timeout: float = 120) -> Any:
    """Polls ``check`` while the page goes on: Playwright's sync API runs route handlers only
    inside its own calls, so the wait between two checks is one of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"waited {timeout} s for {what}")


def test_sign_in_upload_resume_review_override_render_download(
    server: Server,
    client: httpx.Client,
    api_key: str,
    recording: Path,
    tmp_path: Path,
    page: playwright_sync.Page,
) -> None:
    page.add_init_script(f"window.roughyUploadChunkBytes = {CHUNK}")
    sent: list[tuple[str, str, dict[str, str]]] = []
    page.on("request", lambda r: sent.append((r.method, r.url, r.headers)))
    ranged: list[int] = []  # the statuses of the media player's Range requests
    page.on(
        "response",
        lambda r: (
            ranged.append(r.status)
            if "/download" in r.url and "range" in r.request.headers
            else None
        ),
    )

    # Sign in: the key goes to the server once and is kept nowhere the page's scripts reach.
    page.goto(server.base_url + "/")
    page.wait_for_selector("#sign-in")
    shot(page, "sign-in")
    page.fill("#api-key", "sk_wrongwrongwrongwrong")
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    assert "unknown or revoked" in page.inner_text("#error")
    page.fill("#api-key", api_key)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#new-project")
    stored = page.evaluate("JSON.stringify([document.cookie, localStorage, sessionStorage])")
    assert api_key not in stored and "roughy_session" not in stored
    assert api_key not in page.content()

    # A project, made and listed; another made and deleted.
    for name in ("Scratch", "Talks"):
        page.fill("#project-name", name)
        page.click("#new-project button[type=submit]")
        page.wait_for_selector("#uploader .uppy-Dashboard")
        page.goto(server.base_url + "/#/")
        page.wait_for_selector(f"#projects li:has-text('{name}')")
    scratch = page.locator("#projects li:has-text('Scratch') button")
    scratch.click()
    scratch.click()  # asked twice
    page.wait_for_selector("#projects li:has-text('Scratch')", state="detached")
    shot(page, "projects")
    projects = client.get("/v1/projects").json()["items"]
    assert [p["name"] for p in projects] == ["Talks"]
    project_id = projects[0]["id"]

    # Upload; the network drops after two chunks and the page is reloaded; the same file added
    # again resumes from the server's offset instead of starting over.
    page.click("#projects a:has-text('Talks')")
    page.wait_for_selector("#uploader .uppy-Dashboard")
    passed = {"patches": 0}

    def drop_after_two(route: playwright_sync.Route) -> None:
        if route.request.method == "PATCH":
            passed["patches"] += 1
            if passed["patches"] > 2:
                route.abort()
                return
        route.continue_()

    page.route("**/v1/uploads/**", drop_after_two)
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(recording))
    until(page, lambda: offset_of(client, project_id) >= 2 * CHUNK, "two chunks on the server")
    page.unroute("**/v1/uploads/**")
    held = offset_of(client, project_id)
    assert 0 < held < recording.stat().st_size
    page.reload()
    page.wait_for_selector("#uploader .uppy-Dashboard")
    mark = len(sent)
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(recording))
    row = page.wait_for_selector("#assets tr[data-state=ready]", timeout=180_000)
    after = sent[mark:]
    assert not [r for r in after if r[0] == "POST" and r[1].endswith("/v1/uploads")]
    patches = [r for r in after if r[0] == "PATCH"]
    assert patches and int(patches[0][2]["upload-offset"]) >= held, patches[:1]
    assert all("authorization" not in headers for _, _, headers in sent)
    assert "talk.wav" in row.inner_text()
    shot(page, "project")
    asset = client.get("/v1/assets", params={"project_id": project_id}).json()["items"][0]
    got = httpx.get(client.get(f"/v1/assets/{asset['id']}").json()["download_url"], timeout=30)
    assert hashlib.sha256(got.content).digest() == hashlib.sha256(recording.read_bytes()).digest()

    # A file that is no media: refused with the server's own words.
    pdf = tmp_path / "notes.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 40)
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(pdf))
    page.wait_for_selector("#error:not([hidden])")
    assert "not a supported audio or video format" in page.inner_text("#error")

    # The asset: its facts, then a cut with the script.
    page.click(f"#assets tr[data-id='{asset['id']}'] a")
    page.wait_for_selector("#cut-button:not([disabled])")
    facts = page.inner_text("#asset-facts")
    seconds = float(client.get(f"/v1/assets/{asset['id']}").json()["duration_seconds"])
    assert "ready" in facts and f"{seconds:.1f} s" in facts
    page.fill("#script", SCRIPT)
    shot(page, "asset")
    page.click("#cut-button")

    # The review: every word and pause with its reason, the missing line, both takes.
    page.wait_for_selector("#transcript", timeout=300_000)
    first_cut = page.url.rsplit("/", 1)[-1]
    assert page.locator("#transcript .d.dropped[data-reason=retake]").count() >= 5
    assert page.locator("#transcript .d.dropped[data-reason=off_script]").count() >= 3
    assert page.locator("#transcript .d.dropped[data-reason=filler]").count() == 1
    assert page.locator("#transcript .d.pause").count() >= 5
    assert "retake of line 1" in page.inner_text("#transcript")
    assert "A line nobody ever says." in page.inner_text("#missing")
    takes = page.locator("#takes li[data-line='1'] li.take")
    assert takes.count() == 2
    assert "kept" in takes.nth(1).get_attribute("class")
    before = float(page.inner_text("#before").split()[0])
    after_cut = float(page.inner_text("#after").split()[0])
    assert after_cut < before
    # A span plays from the source: the player asks for the bytes with Range requests and the
    # server answers 206. (Whether the headless browser's audio clock then moves is its own
    # business, and slow under load: the test waits for the bytes, not for the sound.)
    page.locator("#transcript .d.kept[data-kind=word]").first.click()
    until(page, lambda: 206 in ranged, "a 206 answer to the player's Range request")
    assert page.evaluate("document.getElementById('player').error") is None
    shot(page, "review")

    # Keep take one instead: a new cut, its choices marked "override".
    takes.nth(0).locator("button.keep-take").click()
    page.wait_for_function(f"!location.hash.endsWith('{first_cut}')")
    page.wait_for_selector("#transcript", timeout=120_000)
    cut_id = page.url.rsplit("/", 1)[-1]
    assert "1 override" in page.inner_text("#overrides")
    assert page.locator("#transcript .d.kept[data-reason=override]").count() >= 5
    assert page.locator("#transcript .d.dropped[data-reason=override]").count() >= 5
    assert "kept" in page.locator("#takes li[data-line='1'] li.take").nth(0).get_attribute("class")
    cut = client.get(f"/v1/cuts/{cut_id}").json()
    assert cut["overrides"] == [{"line": 1, "take": 1}] and cut["state"] == "completed"

    # Render it, watch it finish, download it and compare with the cut and the API's file.
    page.select_option("#render-format", "m4a")
    page.click("#render-button")
    page.wait_for_selector("#renders li[data-state=completed]", timeout=300_000)
    shot(page, "cut")
    with page.expect_download() as download:
        page.click("#renders .download-render")
    saved = tmp_path / "render.m4a"
    download.value.save_as(saved)
    render = client.get("/v1/renders", params={"cut_id": cut_id}).json()["items"][0]
    assert saved.stat().st_size == render["size_bytes"]
    assert duration(saved) == pytest.approx(float(cut["kept_duration_seconds"]), abs=0.1)
    # Exports, one click each.
    with page.expect_download() as srt:
        page.click("#exports a:has-text('SRT')")
    assert "-->" in Path(srt.value.path()).read_text()
    with page.expect_download() as edl:
        page.click("#exports a:has-text('EDL')")
    assert "TITLE" in Path(edl.value.path()).read_text()

    # A phone's width: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("document.documentElement.scrollWidth <= 391")
    shot(page, "cut-phone")
