"""The authorization matrix, walked from the OpenAPI document.

Every documented operation must have a row here: a route added later without one fails
``test_every_documented_operation_has_a_row``, and each row is checked with no key (401), a
revoked key (401) and another account's key (404 for this account's resources, nothing of
this account's in its lists). Signed download URLs are checked in test_downloads.py.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.helpers import OCTETS, TUS, assert_envelope, create_asset, patch, wait_for_state


@dataclass
class World:
    """One account's resources, for the other account to reach for."""

    project_id: str
    ready_id: str
    pending_id: str
    upload_url: str
    key_id: str
    cut_id: str
    render_id: str
    endpoint_id: str
    event_id: str
    data: bytes


Request = tuple[str, dict[str, Any]]  # (url, httpx keyword arguments)

# A webhook endpoint the default settings take (https, a public address), for an event these
# tests never cause: nothing is sent to it.
PUBLIC_URL = "https://93.184.215.14/hooks"
QUIET = ["asset.pending_payment"]


# How each documented operation is called on the owner's resources; "public" rows need no key.
def _creation(project_id: str) -> dict[str, str]:
    encoded = base64.b64encode(project_id.encode()).decode()
    return {"Upload-Length": "100", "Upload-Metadata": f"project_id {encoded}"}


ROWS: dict[tuple[str, str], tuple[str, Callable[[World], Request]]] = {
    ("GET", "/healthz"): ("public", lambda w: ("/healthz", {})),
    ("GET", "/readyz"): ("public", lambda w: ("/readyz", {})),
    ("OPTIONS", "/v1/uploads"): ("public", lambda w: ("/v1/uploads", {})),
    # signed by its URL instead of a key (test_downloads.py)
    ("GET", "/v1/assets/{asset_id}/download"): (
        "public",
        lambda w: (f"/v1/assets/{w.ready_id}/download", {}),
    ),
    ("HEAD", "/v1/assets/{asset_id}/download"): (
        "public",
        lambda w: (f"/v1/assets/{w.ready_id}/download", {}),
    ),
    ("GET", "/v1/users/me"): ("own", lambda w: ("/v1/users/me", {})),
    ("POST", "/v1/api-keys"): ("own", lambda w: ("/v1/api-keys", {"json": {"name": "k"}})),
    ("GET", "/v1/api-keys"): ("list", lambda w: ("/v1/api-keys", {})),
    ("DELETE", "/v1/api-keys/{key_id}"): ("owned", lambda w: (f"/v1/api-keys/{w.key_id}", {})),
    ("POST", "/v1/projects"): ("own", lambda w: ("/v1/projects", {"json": {"name": "p"}})),
    ("GET", "/v1/projects"): ("list", lambda w: ("/v1/projects", {})),
    ("GET", "/v1/projects/{project_id}"): (
        "owned",
        lambda w: (f"/v1/projects/{w.project_id}", {}),
    ),
    ("PATCH", "/v1/projects/{project_id}"): (
        "owned",
        lambda w: (f"/v1/projects/{w.project_id}", {"json": {"name": "stolen"}}),
    ),
    ("DELETE", "/v1/projects/{project_id}"): (
        "owned",
        lambda w: (f"/v1/projects/{w.project_id}", {}),
    ),
    ("POST", "/v1/assets"): (
        "owned",  # into the owner's project
        lambda w: ("/v1/assets", {"json": {"project_id": w.project_id, "size_bytes": 100}}),
    ),
    ("POST", "/v1/uploads"): (
        "owned",  # TUS creation into the owner's project
        lambda w: ("/v1/uploads", {"headers": {**TUS, **_creation(w.project_id)}}),
    ),
    ("GET", "/v1/assets"): ("list", lambda w: ("/v1/assets", {})),
    ("GET", "/v1/assets/{asset_id}"): ("owned", lambda w: (f"/v1/assets/{w.ready_id}", {})),
    ("DELETE", "/v1/assets/{asset_id}"): ("owned", lambda w: (f"/v1/assets/{w.pending_id}", {})),
    ("HEAD", "/v1/uploads/{upload_id}"): ("owned", lambda w: (w.upload_url, {"headers": TUS})),
    ("PATCH", "/v1/uploads/{upload_id}"): (
        "owned",
        lambda w: (
            w.upload_url,
            {
                "headers": {**TUS, "Upload-Offset": "1000", "Content-Type": OCTETS},
                "content": w.data[1000:2000],
            },
        ),
    ),
    ("DELETE", "/v1/uploads/{upload_id}"): ("owned", lambda w: (w.upload_url, {"headers": TUS})),
    ("GET", "/v1/assets/{asset_id}/transcript"): (
        "owned",
        lambda w: (f"/v1/assets/{w.ready_id}/transcript", {}),
    ),
    ("POST", "/v1/cuts"): ("owned", lambda w: ("/v1/cuts", {"json": {"asset_id": w.ready_id}})),
    ("GET", "/v1/cuts"): ("list", lambda w: ("/v1/cuts", {})),
    ("GET", "/v1/cuts/{cut_id}"): ("owned", lambda w: (f"/v1/cuts/{w.cut_id}", {})),
    ("GET", "/v1/cuts/{cut_id}/decisions"): (
        "owned",
        lambda w: (f"/v1/cuts/{w.cut_id}/decisions", {}),
    ),
    ("GET", "/v1/cuts/{cut_id}/export"): ("owned", lambda w: (f"/v1/cuts/{w.cut_id}/export", {})),
    ("GET", "/v1/cuts/{cut_id}/subtitle/export"): (
        "owned",
        lambda w: (f"/v1/cuts/{w.cut_id}/subtitle/export", {}),
    ),
    ("POST", "/v1/renders"): (
        "owned",
        lambda w: ("/v1/renders", {"json": {"asset_id": w.ready_id, "output": {"format": "mp3"}}}),
    ),
    ("GET", "/v1/renders"): ("list", lambda w: ("/v1/renders", {})),
    ("GET", "/v1/renders/{render_id}"): ("owned", lambda w: (f"/v1/renders/{w.render_id}", {})),
    ("POST", "/v1/renders/{render_id}/cancel"): (
        "owned",
        lambda w: (f"/v1/renders/{w.render_id}/cancel", {}),
    ),
    # signed by its URL instead of a key (test_renders.py)
    ("GET", "/v1/renders/{render_id}/download"): (
        "public",
        lambda w: (f"/v1/renders/{w.render_id}/download", {}),
    ),
    ("HEAD", "/v1/renders/{render_id}/download"): (
        "public",
        lambda w: (f"/v1/renders/{w.render_id}/download", {}),
    ),
    ("POST", "/v1/webhook-endpoints"): (
        "own",
        lambda w: ("/v1/webhook-endpoints", {"json": {"url": PUBLIC_URL, "event_types": QUIET}}),
    ),
    ("GET", "/v1/webhook-endpoints"): ("list", lambda w: ("/v1/webhook-endpoints", {})),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}"): (
        "owned",
        lambda w: (f"/v1/webhook-endpoints/{w.endpoint_id}", {}),
    ),
    ("PATCH", "/v1/webhook-endpoints/{endpoint_id}"): (
        "owned",
        lambda w: (f"/v1/webhook-endpoints/{w.endpoint_id}", {"json": {"disabled": True}}),
    ),
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): (
        "owned",
        lambda w: (f"/v1/webhook-endpoints/{w.endpoint_id}", {}),
    ),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"): (
        "owned",
        lambda w: (f"/v1/webhook-endpoints/{w.endpoint_id}/rotate-secret", {}),
    ),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/test"): (
        "owned",
        lambda w: (f"/v1/webhook-endpoints/{w.endpoint_id}/test", {}),
    ),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): (
        "owned",
        lambda w: (f"/v1/webhook-endpoints/{w.endpoint_id}/deliveries", {}),
    ),
    ("GET", "/v1/events"): ("list", lambda w: ("/v1/events", {})),
    ("POST", "/v1/events/{event_id}/redeliver"): (
        "owned",
        lambda w: (f"/v1/events/{w.event_id}/redeliver", {}),
    ),
    ("GET", "/v1/credits/balance"): ("own", lambda w: ("/v1/credits/balance", {})),
    ("GET", "/v1/credits/history"): ("list", lambda w: ("/v1/credits/history", {})),
}
KEYED = sorted(op for op, (kind, _) in ROWS.items() if kind != "public")


@pytest.fixture(scope="module")
def documented(server: Server) -> set[tuple[str, str]]:
    spec = httpx.get(server.base_url + "/v1/openapi.json").json()
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


@pytest.fixture
def world(client: httpx.Client, project: dict[str, Any], media: dict[str, Path]) -> World:
    data = media["mp3"].read_bytes()
    ready, ready_url = create_asset(client, project["id"], len(data))
    assert patch(client, ready_url, 0, data).status_code == 204
    assert wait_for_state(client, ready["id"])["state"] == "ready"
    pending, upload_url = create_asset(client, project["id"], len(data))
    assert patch(client, upload_url, 0, data[:1000]).status_code == 204
    key_id = client.post("/v1/api-keys", json={"name": "owned"}).json()["id"]
    cut_id = client.post("/v1/cuts", json={"asset_id": ready["id"]}).json()["id"]
    render = {"asset_id": ready["id"], "output": {"format": "m4a"}}
    render_id = client.post("/v1/renders", json=render).json()["id"]
    endpoint = {"url": PUBLIC_URL, "event_types": QUIET}
    endpoint_id = client.post("/v1/webhook-endpoints", json=endpoint).json()["id"]
    event_id = client.get("/v1/events", params={"type": "asset.ready"}).json()["items"][0]["id"]
    return World(
        project["id"],
        ready["id"],
        pending["id"],
        upload_url,
        key_id,
        cut_id,
        render_id,
        endpoint_id,
        event_id,
        data,
    )


def _untouched(client: httpx.Client, w: World, project_name: str) -> None:
    assert client.get(f"/v1/projects/{w.project_id}").json()["name"] == project_name
    assert client.get(f"/v1/assets/{w.ready_id}").json()["state"] == "ready"
    assert client.head(w.upload_url, headers=TUS).headers["Upload-Offset"] == "1000"
    keys = client.get("/v1/api-keys").json()["items"]
    assert [k["revoked_at"] for k in keys if k["id"] == w.key_id] == [None]
    endpoint = client.get(f"/v1/webhook-endpoints/{w.endpoint_id}").json()
    assert (endpoint["url"], endpoint["disabled"]) == (PUBLIC_URL, False)
    assert client.get(f"/v1/webhook-endpoints/{w.endpoint_id}/deliveries").json()["total"] == 0


def test_every_documented_operation_has_a_row(documented: set[tuple[str, str]]) -> None:
    assert documented == set(ROWS), "classify the new operation in ROWS"


@pytest.mark.parametrize("bearer", [None, "revoked"])
def test_every_keyed_operation_refuses_a_missing_or_revoked_key(
    bearer: str | None,
    client: httpx.Client,
    anon: httpx.Client,
    world: World,
    project: dict[str, Any],
) -> None:
    headers: dict[str, str] = {}
    if bearer == "revoked":
        minted = client.post("/v1/api-keys", json={"name": "soon revoked"}).json()
        assert client.delete(f"/v1/api-keys/{minted['id']}").status_code == 204
        headers = {"Authorization": f"Bearer {minted['plaintext']}"}
    for method, template in KEYED:
        url, kwargs = ROWS[method, template][1](world)
        kwargs = {**kwargs, "headers": {**kwargs.get("headers", {}), **headers}}
        r = anon.request(method, url, **kwargs)
        if method == "HEAD":
            assert r.status_code == 401, (method, template)
        else:
            assert_envelope(r, 401, "unauthenticated")
    _untouched(client, world, project["name"])


def test_another_account_finds_nothing_of_this_one(
    client: httpx.Client, other_client: httpx.Client, world: World, project: dict[str, Any]
) -> None:
    mine = {
        world.project_id,
        world.ready_id,
        world.pending_id,
        world.key_id,
        world.cut_id,
        world.render_id,
        world.endpoint_id,
        world.event_id,
    }
    for method, template in KEYED:
        kind, build = ROWS[method, template]
        url, kwargs = build(world)
        r = other_client.request(method, url, **kwargs)
        if kind == "owned":
            assert r.status_code == 404, (method, template, r.status_code, r.text)
            if method != "HEAD":
                assert r.json()["error"]["code"] == "not_found"
        elif kind == "list":
            assert r.status_code == 200, (method, template)
            seen = {v for item in r.json()["items"] for v in item.values() if isinstance(v, str)}
            assert not seen & mine, (method, template)
        else:
            assert r.status_code in (200, 201), (method, template, r.status_code)
            assert not {v for v in r.json().values() if isinstance(v, str)} & mine
    listed = other_client.get("/v1/assets", params={"project_id": world.project_id})
    assert listed.json()["total"] == 0
    _untouched(client, world, project["name"])
