"""The user's commands (``roughy upload/cut/render/download/projects/assets``) run as a user
runs them, as processes against a live server: their JSON, their exit codes, a progress bar,
and an upload that resumes after the command is SIGKILLed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from roughy.cli.user import ExitCode
from tests.conftest import Server, ffmpeg
from tests.proxy import SlowProxy
from tests.spoken import speak

ROUGHY = str(Path(sys.executable).parent / "roughy")
LINE = "The quick brown fox jumps over the lazy dog."


@pytest.fixture
def env(server: Server, api_key: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ROUGHY_API_URL": server.base_url,
        "ROUGHY_API_KEY": api_key,
        "ROUGHY_STATE_DIR": str(tmp_path / "state"),
        "COLUMNS": "120",
    }


def roughy(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ROUGHY, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=240
    )


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_upload_wait_list_and_download(
    env: dict[str, str], media: dict[str, Path], tmp_path: Path
) -> None:
    (asset,) = ok_json(
        roughy(env, "upload", str(media["mp4"]), "--project", "CLI", "--wait", "--json")
    )
    assert asset["state"] == "ready" and asset["filename"] == "talk.mp4"
    projects = ok_json(roughy(env, "projects", "--json"))
    (project,) = [p for p in projects if p["name"] == "CLI"]
    assert asset["project_id"] == project["id"]
    # The same name is the same project; an upload of the same file again is a new asset.
    (again,) = ok_json(roughy(env, "upload", str(media["mp4"]), "-p", "CLI", "--json"))
    assert again["project_id"] == project["id"] and again["id"] != asset["id"]
    listed = ok_json(roughy(env, "assets", "--project", "CLI", "--json"))
    assert {a["id"] for a in listed} == {asset["id"], again["id"]}
    table = roughy(env, "assets", "-p", project["id"])
    assert table.returncode == 0 and asset["id"] in table.stdout and "talk.mp4" in table.stdout

    saved = ok_json(
        roughy(env, "download", asset["id"], "-o", str(tmp_path / "back.mp4"), "--json")
    )
    assert Path(saved["saved_to"]).read_bytes() == media["mp4"].read_bytes()
    # Without -o, the server's file name, in the working directory.
    assert roughy(env, "download", asset["id"], cwd=tmp_path).returncode == 0
    assert (tmp_path / "talk.mp4").read_bytes() == media["mp4"].read_bytes()


def test_exit_codes_scripts_can_trust(
    env: dict[str, str], media: dict[str, Path], tmp_path: Path
) -> None:
    missing = roughy(env, "download", "01900000-0000-7000-8000-000000000000")
    assert missing.returncode == ExitCode.NOT_FOUND == 3 and "not found" in missing.stderr.lower()
    assert roughy(env, "assets", "-p", "No such project").returncode == ExitCode.NOT_FOUND

    refused = roughy(env, "upload", str(media["pdf"]), "-p", "CLI errors")
    assert refused.returncode == ExitCode.ERROR == 1 and refused.stderr.strip()

    bad_key = roughy({**env, "ROUGHY_API_KEY": "sk_nope"}, "projects")
    assert bad_key.returncode == ExitCode.AUTH == 4
    no_key = {k: v for k, v in env.items() if k != "ROUGHY_API_KEY"}
    no_key["ROUGHY_DATA_DIR"] = str(tmp_path / "nothing-here")
    lost = roughy(no_key, "projects")
    assert lost.returncode == ExitCode.AUTH and "ROUGHY_API_KEY" in lost.stderr

    away = roughy({**env, "ROUGHY_API_URL": "http://127.0.0.1:9"}, "projects")
    assert away.returncode == ExitCode.UNREACHABLE == 6

    usage = roughy(env, "render", "some-cut", "--format", "avi")
    assert usage.returncode == ExitCode.USAGE == 2


def test_the_local_server_and_its_key_file_are_the_default(
    server: Server, env: dict[str, str], tmp_path: Path
) -> None:
    """No ROUGHY_API_KEY: the key `roughy serve` wrote in its data directory."""
    local = {k: v for k, v in env.items() if k != "ROUGHY_API_KEY"}
    local["ROUGHY_DATA_DIR"] = str(server.data_dir)
    assert roughy(local, "projects", "--json").returncode == 0


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 4 MB of real video with sound: long enough to kill an upload halfway."""
    out = tmp_path_factory.mktemp("cli") / "long talk.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=20",
        "-f", "lavfi", "-i", "sine=frequency=330:duration=20",
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "1500k", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", str(out),
    )  # fmt: skip
    return out


def _stored_upload(state_dir: Path, deadline: float) -> dict[str, str]:
    while time.monotonic() < deadline:
        try:
            entries = json.loads((state_dir / "uploads.json").read_text())
        except (FileNotFoundError, ValueError):
            entries = {}
        if entries:
            (entry,) = entries.values()
            return dict(entry)
        time.sleep(0.1)
    raise AssertionError("the upload was never stored")


def _offset(url: str, key: str) -> int:
    r = httpx.head(url, headers={"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.status_code
    return int(r.headers["Upload-Offset"])


def test_an_upload_killed_mid_way_resumes_on_the_next_run(
    server: Server, env: dict[str, str], api_key: str, long_video: Path, tmp_path: Path
) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    proxy = SlowProxy((host, int(port)), rate=400_000)
    size = long_video.stat().st_size
    slow = {**env, "ROUGHY_API_URL": proxy.url("")}
    args = [ROUGHY, "upload", str(long_video), "-p", "Killed", "--chunk-mib", "1", "--json"]
    try:
        first = subprocess.Popen(args, env=slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        entry = _stored_upload(Path(env["ROUGHY_STATE_DIR"]), deadline)
        while (
            _offset(entry["upload_url"].replace(proxy.url(""), server.base_url), api_key) < 1 << 20
        ):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.1)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        proxy.slow.clear()
        upload_url = entry["upload_url"].replace(proxy.url(""), server.base_url)
        kept = _offset(upload_url, api_key)
        assert 1 << 20 <= kept < size

        (asset,) = ok_json(roughy(slow, *args[1:], "--wait"))
    finally:
        proxy.close()
    assert asset["id"] == entry["asset_id"] and asset["state"] == "ready"
    assert asset["filename"] == "long talk.mp4"
    assert [a["id"] for a in ok_json(roughy(env, "assets", "-p", "Killed", "--json"))] == [
        asset["id"]
    ]
    back = tmp_path / "back.mp4"
    assert roughy(env, "download", asset["id"], "-o", str(back)).returncode == 0
    assert back.read_bytes() == long_video.read_bytes()


def test_the_progress_bar_shows_bytes_speed_and_time_left(
    server: Server, env: dict[str, str], long_video: Path
) -> None:
    """On a terminal (Rich's TTY_COMPATIBLE), the bar shows the file, bytes, a speed and the
    time left as the upload goes (slowed down, so that it takes a few seconds)."""
    host, port = server.base_url.removeprefix("http://").split(":")
    proxy = SlowProxy((host, int(port)), rate=2_000_000)
    terminal = {**env, "ROUGHY_API_URL": proxy.url(""), "TTY_COMPATIBLE": "1"}
    try:
        shown = roughy(
            {**terminal, "TTY_INTERACTIVE": "1"}, "upload", str(long_video), "-p", "Bars"
        )
    finally:
        proxy.close()
    assert shown.returncode == 0, shown.stderr
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.stderr)
    assert "long talk.mp4" in text
    assert re.search(r"\d+\.\d+/\d+\.\d+ MB", text), text[-500:]
    assert re.search(r"\d+(\.\d+)? [kMG]B/s", text), text[-500:]
    assert re.search(r"-:--:--|0:00:\d\d", text), text[-500:]


@pytest.fixture(scope="module")
def spoken_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two takes of one line; the script names it once."""
    d = tmp_path_factory.mktemp("cli-spoken")
    speak([0.5, LINE, 1.5, "Sorry, let me do that again.", 1.2, LINE, 0.8], d / "takes.wav")
    video = d / "takes.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=30", "-i", str(d / "takes.wav"),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-shortest", str(video),
    )  # fmt: skip
    script = d / "script.txt"
    script.write_text(LINE + "\n")
    return video, script


def test_cut_then_render_with_progress_to_a_file(
    env: dict[str, str], spoken_video: tuple[Path, Path], tmp_path: Path
) -> None:
    video, script = spoken_video
    (asset,) = ok_json(roughy(env, "upload", str(video), "-p", "Spoken", "--json"))
    # Cut at once: the command waits for the asset to be ready, then for the cut.
    cut = ok_json(roughy(env, "cut", asset["id"], "--script", str(script), "--wait", "--json"))
    assert cut["state"] == "completed" and cut["segments"]
    out = tmp_path / "cut.mp4"
    made = roughy(
        env,
        "render",
        cut["id"],
        "--format",
        "mp4",
        "--resolution",
        "720p",
        "--wait",
        "--output",
        str(out),
        "--json",
    )
    render = ok_json(made)
    assert render["state"] == "completed" and render["saved_to"] == str(out)
    assert out.stat().st_size == render["size_bytes"]
    kept = float(cut["kept_duration_seconds"])
    assert abs(float(render["duration_seconds"]) - kept) < 0.5
    # The same order again is the same render (200), already done.
    again = ok_json(roughy(env, "render", cut["id"], "-f", "mp4", "--resolution", "720p", "--json"))
    assert again["id"] == render["id"]
