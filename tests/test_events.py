"""Domain events are recorded with each state change (API.md §8's catalogue).

This test reads the table through the test database connection (delivering them to webhook
endpoints is tests/webhooks); the changes themselves are made through the public API and CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from roughy.db import Database
from roughy.events.models import Event
from tests.conftest import Server
from tests.helpers import cli, create_asset, patch, upload_bytes, wait_for_state

SETTLED = ("ready", "pending_payment", "failed")


def _events(db: Database, account_id: str) -> list[Event]:
    with db.session() as session:
        rows = session.scalars(
            select(Event).where(Event.account_id == account_id).order_by(Event.created_at, Event.id)
        )
        return list(rows)


def test_each_terminal_state_is_one_event(
    client: httpx.Client,
    db: Database,
    server: Server,
    project: dict[str, Any],
    media: dict[str, Path],
) -> None:
    me = client.get("/v1/users/me").json()
    data = media["mp3"].read_bytes()
    ready = upload_bytes(client, project["id"], data)
    wait_for_state(client, ready, SETTLED)  # one at a time: a worker runs two jobs at once
    failed = upload_bytes(client, project["id"], media["silent_mp4"].read_bytes())
    wait_for_state(client, failed, SETTLED)
    waiting, url = create_asset(client, project["id"], len(data))  # while there is balance
    drain = ["credits", "grant", "--type", "adjustment", me["email"], "--", "-59"]
    cli(server.data_dir, server.database_url, *drain)
    assert patch(client, url, 0, data).status_code == 204
    assert wait_for_state(client, waiting["id"], SETTLED)["state"] == "pending_payment"
    cli(server.data_dir, server.database_url, "credits", "grant", me["email"], "5")

    seen = [(e.type, e.entity_id, e.data.get("previous_state")) for e in _events(db, me["id"])]
    assert seen == [
        ("asset.ready", ready, "processing"),
        ("asset.failed", failed, None),
        ("asset.pending_payment", waiting["id"], None),
        ("asset.ready", waiting["id"], "pending_payment"),
    ]
    events = _events(db, me["id"])
    assert len({e.id for e in events}) == 4
    assert events[1].data["error_code"] == "no_audio_stream"
    assert all(e.data["asset_id"] == e.entity_id == e.asset_id for e in events)
