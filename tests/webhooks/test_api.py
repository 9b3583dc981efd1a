"""The webhook endpoints' API (API.md §8 and ours): registering, listing, changing, rotating,
deleting; the event catalogue; the SSRF rules on the default settings."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.helpers import assert_envelope
from tests.receiver import Receiver
from tests.webhooks.conftest import register


def test_an_endpoint_is_registered_with_a_secret_shown_once(
    hooks: httpx.Client, receiver: Receiver
) -> None:
    r = hooks.post(
        "/v1/webhook-endpoints",
        json={"url": receiver.url, "event_types": ["cut.completed", "asset.ready"],
              "description": "CI"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_")
    assert len(base64.b64decode(made["secret"].removeprefix("whsec_"))) >= 24
    assert made["event_types"] == ["asset.ready", "cut.completed"]  # the catalogue's order
    assert (made["url"], made["description"], made["disabled"]) == (receiver.url, "CI", False)

    got = hooks.get(f"/v1/webhook-endpoints/{made['id']}").json()
    assert "secret" not in got
    assert got == {k: v for k, v in made.items() if k != "secret"}
    listed = hooks.get("/v1/webhook-endpoints").json()
    assert listed["total"] == 1 and listed["items"] == [got]


def test_unknown_event_types_are_named(hooks: httpx.Client, receiver: Receiver) -> None:
    r = hooks.post(
        "/v1/webhook-endpoints",
        json={"url": receiver.url, "event_types": ["asset.ready", "asset.deleted", "cut.done"]},
    )
    error = assert_envelope(r, 422, "validation_error")
    (field,) = error["fields"]
    assert field["field"] == "body.event_types"
    assert "asset.deleted" in field["message"] and "cut.done" in field["message"]
    assert "asset.ready," not in field["message"].split("Known")[0]
    for bad in ([], "asset.ready", None):
        r = hooks.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": bad})
        assert_envelope(r, 422, "validation_error")
    assert hooks.get("/v1/webhook-endpoints").json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://127.0.0.1/x"},
        {"url": "not a url"},
        {"url": "http://user:pw@127.0.0.1/x"},
        {"url": "http:///x"},
        {"url": "http://127.0.0.1:99999/x"},
        {"url": "https://a.example/" + "x" * 2048},
        {"url": "http://127.0.0.1/x", "description": "x" * 513},
        {"url": "http://127.0.0.1/x", "secret": "whsec_mine"},
    ],
)
def test_a_bad_endpoint_is_a_422_naming_the_field(
    hooks: httpx.Client, body: dict[str, Any]
) -> None:
    r = hooks.post("/v1/webhook-endpoints", json={"event_types": ["asset.ready"], **body})
    error = assert_envelope(r, 422, "validation_error")
    assert {f["field"] for f in error["fields"]} <= {
        "body.url",
        "body.description",
        "body.secret",
    }


def test_an_endpoint_is_changed_disabled_enabled_and_deleted(
    hooks: httpx.Client, receiver: Receiver
) -> None:
    made = register(hooks, receiver, ["asset.ready"])
    path = f"/v1/webhook-endpoints/{made['id']}"
    r = hooks.patch(path, json={"event_types": ["render.failed", "render.completed"]})
    assert r.status_code == 200, r.text
    assert r.json()["event_types"] == ["render.completed", "render.failed"]
    assert_envelope(hooks.patch(path, json={"event_types": ["nope"]}), 422, "validation_error")
    assert_envelope(hooks.patch(path, json={"url": "gopher://x"}), 422, "validation_error")

    off = hooks.patch(path, json={"disabled": True, "description": "paused"}).json()
    assert (off["disabled"], off["disabled_reason"], off["description"]) == (
        True,
        "requested",
        "paused",
    )
    assert off["disabled_at"] is not None
    assert_envelope(hooks.post(f"{path}/test"), 409, "conflict")
    on = hooks.patch(path, json={"disabled": False}).json()
    assert (on["disabled"], on["disabled_reason"], on["disabled_at"]) == (False, None, None)
    assert on["event_types"] == ["render.completed", "render.failed"]

    assert hooks.delete(path).status_code == 204
    for r in (hooks.get(path), hooks.delete(path), hooks.patch(path, json={"disabled": True})):
        assert_envelope(r, 404, "not_found")
    assert_envelope(hooks.get("/v1/webhook-endpoints/not-an-id"), 404, "not_found")


def test_rotation_shows_the_new_secret_once(hooks: httpx.Client, receiver: Receiver) -> None:
    made = register(hooks, receiver, ["asset.ready"])
    rotated = hooks.post(f"/v1/webhook-endpoints/{made['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != made["secret"]
    assert "secret" not in hooks.get(f"/v1/webhook-endpoints/{made['id']}").json()


def test_events_are_listed_newest_first_and_filtered_by_type(
    hooks: httpx.Client, receiver: Receiver
) -> None:
    made = register(hooks, receiver, ["asset.ready"])
    ids = [hooks.post(f"/v1/webhook-endpoints/{made['id']}/test").json()["id"] for _ in range(3)]
    listed = hooks.get("/v1/events", params={"limit": 2}).json()
    assert listed["total"] == 3 and [e["id"] for e in listed["items"]] == ids[::-1][:2]
    assert listed["items"][0] == {
        "id": ids[-1],
        "type": "webhook.test",
        "data": {"entity_id": made["id"], "asset_id": None},
        "created_at": listed["items"][0]["created_at"],
    }
    assert hooks.get("/v1/events", params={"type": "asset.ready"}).json()["total"] == 0
    assert_envelope(hooks.post("/v1/events/not-an-id/redeliver"), 404, "not_found")
