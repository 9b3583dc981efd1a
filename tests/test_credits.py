"""Credits (API.md §5): the ledger, charging at the end of processing, pending_payment, top-ups."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server, ffmpeg, start_server
from tests.helpers import assert_envelope, cli, create_asset, patch, upload_bytes, wait_for_state

SETTLED = ("ready", "pending_payment", "failed")


@pytest.fixture(scope="module")
def ninety_seconds(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("credits") / "ninety.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:duration=90", "-b:a", "32k", str(path))
    return path.read_bytes()


def _adjust(server: Server, client: httpx.Client, amount: int, kind: str = "adjustment") -> str:
    email = client.get("/v1/users/me").json()["email"]
    args = ["credits", "grant", "--type", kind, email, "--", str(amount)]
    return cli(server.data_dir, server.database_url, *args)


def _balance(client: httpx.Client) -> int:
    return int(client.get("/v1/credits/balance").json()["balance"])


def test_a_new_account_starts_with_its_grant(client: httpx.Client) -> None:
    assert client.get("/v1/credits/balance").json() == {"balance": 60}
    history = client.get("/v1/credits/history").json()
    assert history["total"] == 1
    entry = history["items"][0]
    assert set(entry) == {"id", "type", "delta", "asset_id", "created_at"}
    assert entry["delta"] == 60 and entry["asset_id"] is None


def test_ninety_seconds_cost_two_credits(
    client: httpx.Client, project: dict[str, Any], ninety_seconds: bytes
) -> None:
    asset_id = upload_bytes(client, project["id"], ninety_seconds)
    ready = wait_for_state(client, asset_id, SETTLED)
    assert ready["state"] == "ready" and 90.0 <= float(ready["duration_seconds"]) < 91
    assert _balance(client) == 58
    newest = client.get("/v1/credits/history").json()["items"][0]
    assert (newest["type"], newest["delta"], newest["asset_id"]) == ("consume_asset", -2, asset_id)


def test_short_media_costs_one_started_minute(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    asset_id = upload_bytes(client, project["id"], media["mp3"].read_bytes())
    assert wait_for_state(client, asset_id, SETTLED)["state"] == "ready"
    assert _balance(client) == 59


def test_failed_media_is_never_charged(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    asset_id = upload_bytes(client, project["id"], media["silent_mp4"].read_bytes())
    assert wait_for_state(client, asset_id, SETTLED)["state"] == "failed"
    assert _balance(client) == 60


def test_an_empty_balance_refuses_new_assets(
    client: httpx.Client, server: Server, project: dict[str, Any]
) -> None:
    assert _adjust(server, client, -60) == "0"
    r = client.post("/v1/assets", json={"project_id": project["id"], "size_bytes": 1000})
    assert_envelope(r, 402, "insufficient_credits")
    _adjust(server, client, 5, "topup")
    assert (
        client.post(
            "/v1/assets", json={"project_id": project["id"], "size_bytes": 1000}
        ).status_code
        == 201
    )


def test_unpaid_assets_wait_and_top_ups_activate_them_oldest_first(
    client: httpx.Client, server: Server, project: dict[str, Any], ninety_seconds: bytes
) -> None:
    _adjust(server, client, -59)  # one credit left; each asset costs two
    older = upload_bytes(client, project["id"], ninety_seconds)
    waiting = wait_for_state(client, older, SETTLED)
    assert waiting["state"] == "pending_payment" and waiting["cuttable"] is False
    assert waiting["duration_seconds"] is not None and waiting["download_url"] is None
    younger = upload_bytes(client, project["id"], ninety_seconds)
    assert wait_for_state(client, younger, SETTLED)["state"] == "pending_payment"
    assert _balance(client) == 1

    _adjust(server, client, 2, "topup")  # 3 credits: the older one only
    assert client.get(f"/v1/assets/{older}").json()["state"] == "ready"
    assert client.get(f"/v1/assets/{younger}").json()["state"] == "pending_payment"
    assert _balance(client) == 1
    _adjust(server, client, 1, "topup")
    assert client.get(f"/v1/assets/{younger}").json()["state"] == "ready"
    assert _balance(client) == 0
    charges = [
        e for e in client.get("/v1/credits/history").json()["items"] if e["type"] == "consume_asset"
    ]
    assert sorted(e["asset_id"] for e in charges) == sorted([older, younger])


def test_assets_finishing_together_never_overdraw(
    client: httpx.Client, server: Server, project: dict[str, Any], ninety_seconds: bytes
) -> None:
    """Two uploads end at once with credits for one: one is charged, the other waits."""
    _adjust(server, client, -58)  # two credits: exactly one 90-second asset
    uploads = [create_asset(client, project["id"], len(ninety_seconds)) for _ in range(2)]
    barrier = threading.Barrier(2)

    def finish(url: str) -> None:
        barrier.wait()
        with httpx.Client(headers=client.headers, timeout=60) as c:
            assert patch(c, url, 0, ninety_seconds).status_code == 204

    threads = [threading.Thread(target=finish, args=(url,)) for _, url in uploads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    states = sorted(wait_for_state(client, a["id"], SETTLED)["state"] for a, _ in uploads)
    assert states == ["pending_payment", "ready"]
    assert _balance(client) == 0


def test_grants_are_validated(client: httpx.Client, server: Server) -> None:
    email = client.get("/v1/users/me").json()["email"]
    for kind, amount in (("consume_asset", "5"), ("topup", "-5"), ("topup", "0"), ("gift", "5")):
        args = ["credits", "grant", "--type", kind, email, "--", amount]
        assert cli(server.data_dir, server.database_url, *args, check=False) == ""
    assert _balance(client) == 60
    assert cli(server.data_dir, server.database_url, "credits", "balance", email) == "60"
    assert email in cli(server.data_dir, server.database_url, "accounts", "list")


def test_without_enforcement_nothing_waits_and_nothing_is_charged(
    database_url: str, tmp_path: Path, ninety_seconds: bytes
) -> None:
    srv = start_server(tmp_path, database_url, ROUGHY_CREDITS_ENFORCED="false")
    try:
        email = f"free-{tmp_path.name}@example.com"
        env = {"ROUGHY_SIGNUP_CREDITS": "0"}
        key = cli(srv.data_dir, srv.database_url, "accounts", "create", email, extra_env=env)
        with httpx.Client(base_url=srv.base_url, headers={"Authorization": f"Bearer {key}"}) as c:
            assert _balance(c) == 0
            pid = c.post("/v1/projects", json={"name": "p"}).json()["id"]
            asset_id = upload_bytes(c, pid, ninety_seconds)
            assert wait_for_state(c, asset_id, SETTLED)["state"] == "ready"
            assert _balance(c) == 0
            assert c.get("/v1/credits/history").json()["total"] == 0
    finally:
        srv.stop()


def test_unpaid_assets_are_purged_after_the_retention(
    database_url: str, tmp_path: Path, ninety_seconds: bytes
) -> None:
    """Retention of 2 s instead of 30 days: the waiting asset and its bytes go, nothing else."""
    srv = start_server(
        tmp_path,
        database_url,
        ROUGHY_UNPAID_RETENTION_SECONDS="2",
        ROUGHY_REAPER_INTERVAL_SECONDS="0.5",
    )
    try:
        email = f"unpaid-{tmp_path.name}@example.com"
        env = {"ROUGHY_SIGNUP_CREDITS": "1"}  # too little for 90 seconds
        key = cli(srv.data_dir, srv.database_url, "accounts", "create", email, extra_env=env)
        with httpx.Client(base_url=srv.base_url, headers={"Authorization": f"Bearer {key}"}) as c:
            pid = c.post("/v1/projects", json={"name": "p"}).json()["id"]
            asset_id = upload_bytes(c, pid, ninety_seconds)
            assert wait_for_state(c, asset_id, SETTLED)["state"] == "pending_payment"
            objects = srv.data_dir / "blobs" / "objects"
            assert (objects / asset_id).exists()
            deadline = time.monotonic() + 15
            while c.get(f"/v1/assets/{asset_id}").status_code != 404:
                assert time.monotonic() < deadline, "the unpaid asset was not purged"
                time.sleep(0.2)
            while (objects / asset_id).exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not (objects / asset_id).exists()
            assert _balance(c) == 1
    finally:
        srv.stop()
