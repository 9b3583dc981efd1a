"""Every event of the catalogue is delivered once per terminal state, through the public API's
own flows (uploads, credits, cuts, renders), to a receiver that verifies each request."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server, ffmpeg
from tests.helpers import cli, create_asset, patch, upload_bytes, wait_for_state
from tests.receiver import Receiver
from tests.webhooks.conftest import account_on, register, tmp_server

SETTLED = ("ready", "pending_payment", "failed")
DONE = ("completed", "failed", "cancelled")


def _wait(client: httpx.Client, path: str, states: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while (body := client.get(path).json())["state"] not in states:
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    return dict(body)


@pytest.fixture(scope="module")
def ten_minutes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Long enough to be cancelled before its render is done."""
    path = tmp_path_factory.mktemp("long") / "ten.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:duration=600", "-b:a", "32k", str(path))
    return path.read_bytes()


def _seen(receiver: Receiver) -> Counter[tuple[str, str, str | None]]:
    """(type, entity_id, previous_state) of each distinct event (by webhook-id) received."""
    firsts = {r.id: r for r in reversed(receiver.received)}
    return Counter(
        (r.type, r.json["data"]["entity_id"], r.json["data"].get("previous_state"))
        for r in firsts.values()
    )


def test_assets_cuts_and_renders_each_send_one_event_per_terminal_state(
    hooks_server: Server, receiver: Receiver, media: dict[str, Path], ten_minutes: bytes
) -> None:
    with account_on(hooks_server) as c:
        endpoint = register(c, receiver)
        project = c.post("/v1/projects", json={"name": "events"}).json()["id"]
        # A long asset: its render is cancelled.
        long_id = upload_bytes(c, project, ten_minutes)
        assert wait_for_state(c, long_id, SETTLED)["state"] == "ready"
        render = c.post("/v1/renders", json={"asset_id": long_id, "output": {"format": "m4a"}})
        cancelled = render.json()["id"]
        assert c.post(f"/v1/renders/{cancelled}/cancel").json()["state"] == "cancelled"
        # A ready asset, cut (a tone: nothing to keep) and rendered, whole and as the cut.
        data = media["mp3"].read_bytes()
        ready = upload_bytes(c, project, data)
        assert wait_for_state(c, ready, SETTLED)["state"] == "ready"
        cut = c.post("/v1/cuts", json={"asset_id": ready}).json()["id"]
        assert _wait(c, f"/v1/cuts/{cut}", DONE)["state"] == "completed"
        whole = {"asset_id": ready, "output": {"format": "mp3"}}
        completed = c.post("/v1/renders", json=whole).json()["id"]
        as_cut = {"asset_id": ready, "cut_id": cut, "output": {"format": "mp3"}}
        failed_render = c.post("/v1/renders", json=as_cut).json()["id"]
        assert _wait(c, f"/v1/renders/{completed}", DONE)["state"] == "completed"
        assert _wait(c, f"/v1/renders/{failed_render}", DONE)["state"] == "failed"
        # An asset that fails; one that waits for payment, then is paid for (the CLI).
        failed = upload_bytes(c, project, media["silent_mp4"].read_bytes())
        assert wait_for_state(c, failed, SETTLED)["state"] == "failed"
        me = c.get("/v1/users/me").json()
        waiting, url = create_asset(c, project, len(data))
        balance = c.get("/v1/credits/balance").json()["balance"]
        drain = ["credits", "grant", "--type", "adjustment", me["email"], "--", str(-balance)]
        cli(hooks_server.data_dir, hooks_server.database_url, *drain)
        assert patch(c, url, 0, data).status_code == 204
        assert wait_for_state(c, waiting["id"], SETTLED)["state"] == "pending_payment"
        cli(hooks_server.data_dir, hooks_server.database_url, "credits", "grant", me["email"], "5")

        expected = Counter(
            [
                ("asset.ready", long_id, "processing"),
                ("render.cancelled", cancelled, None),
                ("asset.ready", ready, "processing"),
                ("cut.completed", cut, None),
                ("render.completed", completed, None),
                ("render.failed", failed_render, None),
                ("asset.failed", failed, None),
                ("asset.pending_payment", waiting["id"], None),
                ("asset.ready", waiting["id"], "pending_payment"),
            ]
        )
        receiver.wait_for(lambda _: sum(_seen(receiver).values()) >= len(expected), 120)
        assert _seen(receiver) == expected
        assert all(
            r.verified_by == [endpoint["secret"]] and r.svix_verified for r in receiver.received
        )
        by_type = {r.type: r.json["data"] for r in receiver.received}
        assert by_type["asset.failed"]["error_code"] == "no_audio_stream"
        assert by_type["render.failed"]["asset_id"] == ready
        assert by_type["cut.completed"]["asset_id"] == ready
        assert by_type["render.cancelled"]["asset_id"] == long_id
        assert all(set(r.json) == {"type", "data"} for r in receiver.received)
        # The account's events are what was delivered, newest first.
        listed = c.get("/v1/events", params={"limit": 100}).json()
        assert {e["id"] for e in listed["items"]} == {r.id for r in receiver.received}


def test_a_cut_that_fails_sends_cut_failed(
    database_url: str, tmp_path: Path, receiver: Receiver, media: dict[str, Path]
) -> None:
    """A server without its speech model: the transcript fails, so the cut does."""
    srv = tmp_server(tmp_path, database_url, ROUGHY_SPEECH_MODEL=str(tmp_path / "no-model"))
    try:
        with account_on(srv) as c:
            register(c, receiver, ["cut.failed", "cut.completed"])
            project = c.post("/v1/projects", json={"name": "p"}).json()["id"]
            asset_id = upload_bytes(c, project, media["mp3"].read_bytes())
            assert wait_for_state(c, asset_id, SETTLED)["state"] == "ready"
            cut = c.post("/v1/cuts", json={"asset_id": asset_id}).json()["id"]
            assert _wait(c, f"/v1/cuts/{cut}", DONE)["state"] == "failed"
            (got,) = receiver.wait_for(lambda rs: len(rs) >= 1)
            assert got.type == "cut.failed" and got.verified_by == receiver.secrets
            data = got.json["data"]
            assert (data["entity_id"], data["asset_id"]) == (cut, asset_id)
            assert data["error_code"] == c.get(f"/v1/cuts/{cut}").json()["error_code"]
    finally:
        srv.stop()
