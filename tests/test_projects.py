from __future__ import annotations

import re

import httpx

from tests.helpers import assert_envelope

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_create_get_and_shape(client: httpx.Client) -> None:
    r = client.post("/v1/projects", json={"name": "Keynote 2026"})
    assert r.status_code == 201
    p = r.json()
    assert set(p) == {"id", "name", "state", "archived_at", "created_at", "updated_at"}
    assert p["name"] == "Keynote 2026" and p["state"] == "active" and p["archived_at"] is None
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", p["id"]
    )
    assert TS.match(p["created_at"]) and TS.match(p["updated_at"])
    assert client.get(f"/v1/projects/{p['id']}").json() == p


def test_name_is_validated(client: httpx.Client) -> None:
    for body in ({"name": ""}, {"name": "x" * 257}, {}, {"name": 5}):
        err = assert_envelope(client.post("/v1/projects", json=body), 422, "validation_error")
        assert err["fields"][0]["field"] == "body.name"
    assert client.post("/v1/projects", json={"name": "x" * 256}).status_code == 201


def test_malformed_json_is_a_bad_request(client: httpx.Client) -> None:
    """Not a field that failed validation (422): a body that is no JSON at all (API.md §0)."""
    r = client.post(
        "/v1/projects", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_envelope(r, 400, "bad_request")


def test_rename_archive_unarchive(client: httpx.Client) -> None:
    pid = client.post("/v1/projects", json={"name": "a"}).json()["id"]
    r = client.patch(f"/v1/projects/{pid}", json={"name": "b"})
    assert r.status_code == 200 and r.json()["name"] == "b" and r.json()["state"] == "active"
    archived = client.patch(f"/v1/projects/{pid}", json={"state": "archived"}).json()
    assert archived["state"] == "archived" and TS.match(archived["archived_at"])
    assert archived["name"] == "b"
    assert pid not in [p["id"] for p in client.get("/v1/projects").json()["items"]]
    assert pid in [p["id"] for p in client.get("/v1/projects?state=archived").json()["items"]]
    active = client.patch(f"/v1/projects/{pid}", json={"state": "active"}).json()
    assert active["state"] == "active" and active["archived_at"] is None
    assert_envelope(
        client.patch(f"/v1/projects/{pid}", json={"state": "deleted"}), 422, "validation_error"
    )


def test_list_is_paginated_newest_first_with_total(client: httpx.Client) -> None:
    ids = [client.post("/v1/projects", json={"name": f"p{i}"}).json()["id"] for i in range(5)]
    page = client.get("/v1/projects", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [p["id"] for p in page["items"]] == list(reversed(ids))[1:3]
    everything = client.get("/v1/projects").json()
    assert [p["id"] for p in everything["items"]] == list(reversed(ids))
    assert everything["limit"] == 20 and everything["offset"] == 0
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"state": "gone"}):
        err = assert_envelope(client.get("/v1/projects", params=bad), 422, "validation_error")
        assert err["fields"][0]["field"].startswith("query.")


def test_delete_removes_project_and_assets(client: httpx.Client) -> None:
    pid = client.post("/v1/projects", json={"name": "gone"}).json()["id"]
    asset = client.post("/v1/assets", json={"project_id": pid, "size_bytes": 1000}).json()
    assert client.delete(f"/v1/projects/{pid}").status_code == 204
    assert_envelope(client.get(f"/v1/projects/{pid}"), 404, "not_found")
    assert_envelope(client.get(f"/v1/assets/{asset['id']}"), 404, "not_found")
    assert_envelope(client.delete(f"/v1/projects/{pid}"), 404, "not_found")


def test_malformed_and_unknown_ids_are_not_found(client: httpx.Client) -> None:
    for pid in ("nope", "123", "01a20a01-d074-7786-9bc5-35bcaebcf301"):
        assert_envelope(client.get(f"/v1/projects/{pid}"), 404, "not_found")
        assert_envelope(client.patch(f"/v1/projects/{pid}", json={"name": "x"}), 404, "not_found")
