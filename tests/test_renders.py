"""Renders (API.md §7) through the public API, on a real server: a phone-style video (numbered
pictures, a quarter turn in its header) whose sound is two takes of a line, cut with the script
and rendered; idempotency, every 409 and 422, listing, cancelling a running render, a worker
killed mid-render, and deletion. The engine's own checks are in tests/media/test_render.py."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from roughy.db import Database
from roughy.speech.types import Span
from roughy.timelines.frames import SourceMedia, frame_ranges
from tests.conftest import S3, Server, ffmpeg, start_server, start_worker
from tests.helpers import (
    account_client,
    assert_envelope,
    create_asset,
    db_account_client,
    upload_bytes,
    wait_for_state,
)
from tests.media import timecoded as tc
from tests.spoken import Placed, speak

LINE = "The quick brown fox jumps over the lazy dog."
SETTLED = ("ready", "pending_payment", "failed")
DONE = ("completed", "failed", "cancelled")


def wait_for(
    client: httpx.Client, path: str, states: tuple[str, ...], timeout: float = 180
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(path)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["state"] in states or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def ready_asset(client: httpx.Client, project_id: str, data: bytes) -> str:
    asset_id = upload_bytes(client, project_id, data)
    assert wait_for_state(client, asset_id, SETTLED)["state"] == "ready"
    return asset_id


def download(url: str, target: Path) -> Path:
    r = httpx.get(url, timeout=60)
    assert r.status_code == 200, r.text
    target.write_bytes(r.content)
    return target


@pytest.fixture(scope="module")
def phone_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Placed]]:
    """Two takes of the line (the second with chatter before it), over numbered 1280x720
    pictures at 25 fps stored on their side (shown 720x1280, as a phone held upright)."""
    d = tmp_path_factory.mktemp("renders")
    placed = speak(
        [0.5, LINE, 1.5, "Sorry, let me do that again.", 1.2, LINE, 0.8], d / "takes.wav"
    )
    seconds = placed[-1].end + 0.8
    wide = d / "wide.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", tc.video_filter("1280x720", "25", seconds), "-i", str(d / "takes.wav"),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-b:a", "128k", "-shortest", str(wide),
    )  # fmt: skip
    return tc.turned(wide, d / "phone.mp4"), dict(
        zip(["take1", "chatter", "take2"], placed, strict=True)
    )


@pytest.fixture(scope="module")
def cut_video(
    server: Server, db: Database, phone_video: tuple[Path, dict[str, Placed]]
) -> tuple[httpx.Client, str, dict[str, Any]]:
    """One account's phone video, cut with the script: the client, the asset id, the cut."""
    client = db_account_client(server.base_url, db, "renders")
    project = client.post("/v1/projects", json={"name": "Renders"}).json()
    asset_id = ready_asset(client, project["id"], phone_video[0].read_bytes())
    r = client.post("/v1/cuts", json={"asset_id": asset_id, "script": LINE})
    assert r.status_code == 201, r.text
    cut = wait_for(client, f"/v1/cuts/{r.json()['id']}", ("completed", "failed"))
    assert cut["state"] == "completed", cut
    return client, asset_id, cut


def _render(client: httpx.Client, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    r = client.post("/v1/renders", json=body)
    assert r.status_code == status, r.text
    if status == 201:
        assert r.headers["Location"].endswith(f"/v1/renders/{r.json()['id']}")
    return dict(r.json())


def _expected_frames(cut: dict[str, Any], duration: float) -> list[int]:
    spans = [Span(float(s["start"]), float(s["end"])) for s in cut["segments"]]
    source = SourceMedia(name="v", target_url="/v", duration=duration, frame_rate=25.0)
    return [f for r in frame_ranges(spans, source) for f in range(r.source_start, r.source_end)]


def test_the_cut_renders_to_720p_mp4_with_the_second_take_only_upright_in_sync(
    cut_video: tuple[httpx.Client, str, dict[str, Any]],
    phone_video: tuple[Path, dict[str, Placed]],
    tmp_path: Path,
) -> None:
    client, asset_id, cut = cut_video
    output = {"format": "mp4", "resolution": "720p"}
    render = _render(client, {"asset_id": asset_id, "cut_id": cut["id"], "output": output})
    assert render["state"] in ("pending", "processing") and render["download_url"] is None
    assert render["output"] == {**output, "video_bitrate": None, "audio_bitrate": None,
                                "frame_rate": None}  # fmt: skip
    done = wait_for(client, f"/v1/renders/{render['id']}", DONE)
    assert done["state"] == "completed", done
    assert done["progress"] == 1 and done["size_bytes"] > 0 and done["error_code"] is None
    assert done["started_at"] and done["completed_at"]
    out = tc.decode(download(done["download_url"], tmp_path / "cut.mp4"), turn=-1)
    asset = client.get(f"/v1/assets/{asset_id}").json()
    expected = _expected_frames(cut, float(asset["duration_seconds"]))
    assert out.frames == expected  # the cut's frames, as its EDL places them, and only those
    take1, take2 = phone_video[1]["take1"], phone_video[1]["take2"]
    assert min(out.frames) / 25 >= take1.end and min(out.frames) / 25 <= take2.start
    assert out.size == (720, 1280) and out.rotation == 0  # upright, 720 on its shorter edge
    assert abs(out.video_end - out.audio_end) <= 1 / 25  # in sync at the end
    assert float(done["duration_seconds"]) == pytest.approx(len(expected) / 25, abs=0.001)
    ranged = httpx.get(done["download_url"], headers={"Range": "bytes=0-99"}, timeout=60)
    assert ranged.status_code == 206 and len(ranged.content) == 100
    assert ranged.headers["Content-Range"] == f"bytes 0-99/{done['size_bytes']}"
    assert ranged.headers["Content-Type"] == "video/mp4"


def test_the_same_cut_to_mp3_holds_the_same_speech(
    cut_video: tuple[httpx.Client, str, dict[str, Any]], tmp_path: Path
) -> None:
    client, asset_id, cut = cut_video
    ordered = {
        fmt: _render(client, {"asset_id": asset_id, "cut_id": cut["id"], "output": {"format": fmt}})
        for fmt in ("mp4", "mp3")
    }
    mp4, mp3 = (wait_for(client, f"/v1/renders/{r['id']}", DONE) for r in ordered.values())
    assert mp4["state"] == mp3["state"] == "completed"
    assert mp3["duration_seconds"] == mp4["duration_seconds"]
    video = tc.decode(download(mp4["download_url"], tmp_path / "a.mp4"))
    sound = tc.decode(download(mp3["download_url"], tmp_path / "a.mp3"))
    assert sound.size is None
    a, b = _envelope(video.audio, video.sample_rate), _envelope(sound.audio, sound.sample_rate)
    n = min(len(a), len(b))
    assert abs(len(a) - len(b)) <= 4  # 10 ms blocks: the same length within a frame
    assert np.corrcoef(a[:n], b[:n])[0, 1] > 0.95  # the same speech, at the same moments


def _envelope(audio: np.ndarray, rate: int) -> np.ndarray:
    block = rate // 100
    n = len(audio) // block
    return np.sqrt((audio[: n * block].reshape(n, block) ** 2).mean(axis=1))


def test_the_same_inputs_are_the_same_render(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    asset_id = ready_asset(client, project["id"], media["mp4"].read_bytes())
    first = _render(client, {"asset_id": asset_id, "output": {"format": "mp4"}})
    spelt_out = {"format": "mp4", "resolution": None, "video_bitrate": None,
                 "audio_bitrate": None, "frame_rate": None}  # fmt: skip
    again = _render(client, {"asset_id": asset_id, "cut_id": None, "output": spelt_out}, 200)
    assert again["id"] == first["id"]
    other = _render(
        client, {"asset_id": asset_id, "output": {"format": "mp4", "audio_bitrate": 128}}
    )
    assert other["id"] != first["id"]
    done = wait_for(client, f"/v1/renders/{first['id']}", DONE)
    assert done["state"] == "completed"
    assert (
        _render(client, {"asset_id": asset_id, "output": {"format": "mp4"}}, 200)["id"]
        == first["id"]
    )
    listed = client.get("/v1/renders", params={"asset_id": asset_id}).json()
    assert listed["total"] == 2 and {i["id"] for i in listed["items"]} == {first["id"], other["id"]}
    assert (
        client.get("/v1/renders", params={"asset_id": asset_id, "state": "completed"}).json()[
            "total"
        ]
        >= 1
    )
    assert client.get("/v1/renders", params={"cut_id": "nope"}).json()["total"] == 0
    assert_envelope(client.get("/v1/renders/nope"), 404, "not_found")
    assert_envelope(client.get(f"/v1/renders/{uuid.uuid4()}"), 404, "not_found")


def test_renders_need_a_ready_asset_and_a_completed_cut_of_it(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path],
    cut_video: tuple[httpx.Client, str, dict[str, Any]],
) -> None:  # fmt: skip
    mp4 = {"format": "mp4"}
    assert_envelope(
        client.post("/v1/renders", json={"asset_id": str(uuid.uuid4()), "output": mp4}),
        404,
        "not_found",
    )
    pending, _ = create_asset(client, project["id"], 1000)
    r = client.post("/v1/renders", json={"asset_id": pending["id"], "output": mp4})
    assert_envelope(r, 409, "asset_processing")
    assert int(r.headers["Retry-After"]) > 0
    silent = upload_bytes(client, project["id"], media["silent_mp4"].read_bytes())
    assert wait_for_state(client, silent, SETTLED)["state"] == "failed"
    assert_envelope(
        client.post("/v1/renders", json={"asset_id": silent, "output": mp4}), 409, "asset_failed"
    )
    mine = ready_asset(client, project["id"], media["mp4"].read_bytes())
    # a cut of another account is not found; a cut of another asset is not this one's
    other_cut = cut_video[2]["id"]
    r = client.post("/v1/renders", json={"asset_id": mine, "cut_id": other_cut, "output": mp4})
    assert_envelope(r, 404, "not_found")
    owner = cut_video[0]
    their_other = owner.post("/v1/projects", json={"name": "more"}).json()["id"]
    second = ready_asset(owner, their_other, media["mp4"].read_bytes())
    r = owner.post("/v1/renders", json={"asset_id": second, "cut_id": other_cut, "output": mp4})
    assert assert_envelope(r, 422, "validation_error")["fields"][0]["field"] == "body.cut_id"
    # a cut still being decided: its transcript is being made
    new_cut = owner.post("/v1/cuts", json={"asset_id": second}).json()
    r = owner.post("/v1/renders", json={"asset_id": second, "cut_id": new_cut["id"], "output": mp4})
    assert_envelope(r, 409, "cut_processing")
    assert int(r.headers["Retry-After"]) > 0
    assert client.get("/v1/renders").json()["total"] == 0


@pytest.mark.parametrize(
    ("asset", "output", "field"),
    [
        ("mp3", {"format": "mp4"}, "body.output.format"),  # no picture to put in it
        ("mp3", {"format": "mov"}, "body.output.format"),
        ("mp3", {"format": "m4a", "resolution": "720p"}, "body.output.resolution"),
        ("mp4", {"format": "mp3", "video_bitrate": 5}, "body.output.video_bitrate"),
        ("mp4", {"format": "avi"}, "body.output.format"),
        ("mp4", {"format": "mp4", "resolution": "8k"}, "body.output.resolution"),
        ("mp4", {"format": "mp4", "video_bitrate": 7}, "body.output.video_bitrate"),
        ("mp4", {"format": "mp4", "audio_bitrate": 96}, "body.output.audio_bitrate"),
        ("mp4", {"format": "mp4", "frame_rate": 0}, "body.output.frame_rate"),
        ("mp4", {"format": "mp4", "speed": 2}, "body.output.speed"),
        ("mp4", {}, "body.output.format"),
    ],
)
def test_a_bad_output_is_a_422_naming_the_field(
    asset: str, output: dict[str, Any], field: str,
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path],
) -> None:  # fmt: skip
    asset_id = ready_asset(client, project["id"], media[asset].read_bytes())
    error = assert_envelope(
        client.post("/v1/renders", json={"asset_id": asset_id, "output": output}),
        422,
        "validation_error",
    )
    assert field in [f["field"] for f in error["fields"]]


def test_a_failed_cut_cannot_be_rendered(
    database_url: str, tmp_path: Path, media: dict[str, Path]
) -> None:
    """A server without its speech model: the transcript fails, so the cut does."""
    srv = start_server(tmp_path, database_url, ROUGHY_SPEECH_MODEL=str(tmp_path / "no-model"))
    try:
        with account_client(srv.base_url, srv.data_dir, srv.database_url, "nomodel@x.io") as (c, _):
            project = c.post("/v1/projects", json={"name": "p"}).json()["id"]
            asset_id = ready_asset(c, project, media["mp4"].read_bytes())
            cut = c.post("/v1/cuts", json={"asset_id": asset_id}).json()
            assert (
                wait_for(c, f"/v1/cuts/{cut['id']}", ("completed", "failed"))["state"] == "failed"
            )
            r = c.post(
                "/v1/renders",
                json={"asset_id": asset_id, "cut_id": cut["id"], "output": {"format": "mp4"}},
            )
            assert_envelope(r, 409, "cut_failed")
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Ten minutes of numbered pictures and sound: long enough to be caught while rendering."""
    d = tmp_path_factory.mktemp("long")
    unit = tc.make(d / "unit.mp4", seconds=20, size="640x360")
    ffmpeg("-stream_loop", "29", "-i", str(unit), "-c", "copy", str(d / "long.mp4"))
    return (d / "long.mp4").read_bytes()


def _render_files(server: Server, render_id: str) -> list[str]:
    """The render's files in the server's store: its directory, or its prefix of the bucket."""
    url = server.environ.get("ROUGHY_STORAGE_URL", "")
    if url.startswith("s3://") and S3:
        prefix = url.removeprefix("s3://").partition("/")[2]
        return [k for k in S3[0].keys(f"{prefix}/") if f"render-{render_id}" in k]
    blobs = server.data_dir / "blobs"
    return [
        str(p)
        for p in (
            blobs / "objects" / f"render-{render_id}",
            blobs / "uploads" / f"render-{render_id}",
        )
        if p.exists()
    ]


def _running(client: httpx.Client, render_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        body = client.get(f"/v1/renders/{render_id}").json()
        if (body["state"] == "processing" and body["progress"] > 0) or body["state"] in DONE:
            return dict(body)
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def test_cancelling_a_running_render_stops_it_and_leaves_no_file(
    server: Server, client: httpx.Client, project: dict[str, Any], long_video: bytes
) -> None:
    asset_id = ready_asset(client, project["id"], long_video)
    render = _render(client, {"asset_id": asset_id, "output": {"format": "mp4"}})
    running = _running(client, render["id"])
    assert running["state"] == "processing" and 0 < running["progress"] < 1
    r = client.post(f"/v1/renders/{render['id']}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancelled" and r.json()["download_url"] is None
    assert_envelope(client.post(f"/v1/renders/{render['id']}/cancel"), 409, "conflict")
    deadline = time.monotonic() + 10  # the encoder stops, the partial file goes
    while _render_files(server, render["id"]):
        assert time.monotonic() < deadline, "the cancelled render's file stayed"
        time.sleep(0.2)
    assert client.get(f"/v1/renders/{render['id']}").json()["state"] == "cancelled"
    # cancelled renders give their inputs up: the same order is a new render
    again = _render(client, {"asset_id": asset_id, "output": {"format": "mp4"}})
    assert again["id"] != render["id"]
    assert client.post(f"/v1/renders/{again['id']}/cancel").json()["state"] == "cancelled"


def test_a_worker_killed_mid_render_leaves_it_to_another(
    database_url: str, tmp_path: Path, long_video: bytes
) -> None:
    fast = {"ROUGHY_JOB_LEASE_SECONDS": "1", "ROUGHY_REAPER_INTERVAL_SECONDS": "0.5"}
    srv = start_server(tmp_path, database_url, ROUGHY_EMBEDDED_WORKER="false", **fast)
    first = start_worker(srv, tmp_path / "worker1.log", **fast)
    second = None
    try:
        with account_client(srv.base_url, srv.data_dir, srv.database_url, "killed@x.io") as (c, _):
            project = c.post("/v1/projects", json={"name": "p"}).json()["id"]
            asset_id = ready_asset(c, project, long_video)
            render = _render(c, {"asset_id": asset_id, "output": {"format": "mp3"}})
            assert _running(c, render["id"])["state"] == "processing"
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
            assert c.get(f"/v1/renders/{render['id']}").json()["state"] == "processing"
            second = start_worker(srv, tmp_path / "worker2.log", **fast)
            done = wait_for(c, f"/v1/renders/{render['id']}", DONE, timeout=240)
            assert done["state"] == "completed", done
            out = tc.decode(download(done["download_url"], tmp_path / "whole.mp3"))
            seconds = len(out.audio) / out.sample_rate
            assert float(done["duration_seconds"]) >= 600  # the whole source
            assert abs(seconds - float(done["duration_seconds"])) <= 0.04  # whole, not half
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(15)
        srv.stop()


def test_deleting_the_asset_deletes_its_renders_and_their_files(
    server: Server, client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    asset_id = ready_asset(client, project["id"], media["mp4"].read_bytes())
    render = _render(client, {"asset_id": asset_id, "output": {"format": "m4a"}})
    assert wait_for(client, f"/v1/renders/{render['id']}", DONE)["state"] == "completed"
    assert _render_files(server, render["id"])
    assert client.delete(f"/v1/assets/{asset_id}").status_code == 204
    assert_envelope(client.get(f"/v1/renders/{render['id']}"), 404, "not_found")
    assert client.get("/v1/renders", params={"asset_id": asset_id}).json()["total"] == 0
    deadline = time.monotonic() + 30
    while _render_files(server, render["id"]):
        assert time.monotonic() < deadline, "the render's file stayed"
        time.sleep(0.2)


def test_a_render_url_is_signed_for_that_render(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    asset_id = ready_asset(client, project["id"], media["mp3"].read_bytes())
    render = _render(client, {"asset_id": asset_id, "output": {"format": "m4a"}})
    done = wait_for(client, f"/v1/renders/{render['id']}", DONE)
    url = done["download_url"]
    assert httpx.get(url).headers["Content-Type"] == "audio/mp4"
    assert httpx.get(url.replace("signature=", "signature=0")).status_code == 403
    # the render's signature does not open the asset of the same id, nor another render
    assert httpx.get(url.replace("/v1/renders/", "/v1/assets/")).status_code in (403, 404)
