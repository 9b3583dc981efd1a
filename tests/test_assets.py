from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tests.helpers import TUS, assert_envelope, create_asset

FIELDS = {
    "id", "project_id", "type", "state", "extension", "size_bytes", "content_type",
    "duration_seconds", "language", "error_code", "error_message", "created_at", "cuttable",
    "filename",
}  # fmt: skip


def test_create_answers_201_with_the_tus_url(client: httpx.Client, project: dict[str, Any]) -> None:
    r = client.post(
        "/v1/assets", json={"project_id": project["id"], "size_bytes": 14_600_000, "language": "DE"}
    )
    assert r.status_code == 201
    asset = r.json()
    assert set(asset) == FIELDS | {"upload_url", "download_url", "upload_token"}
    assert asset["upload_token"] is None and asset["filename"] is None
    assert asset["state"] == "pending_upload" and asset["project_id"] == project["id"]
    for field in ("type", "extension", "size_bytes", "content_type", "duration_seconds"):
        assert asset[field] is None
    assert asset["language"] == "de" and asset["cuttable"] is False
    assert asset["download_url"] is None
    location = r.headers["Location"]
    assert location.startswith("http://") and location.endswith(f"/v1/uploads/{asset['id']}")
    assert asset["upload_url"] == location
    assert r.headers["Tus-Resumable"] == "1.0.0"
    assert parsedate_to_datetime(r.headers["Upload-Expires"]).tzinfo is not None
    assert client.get(f"/v1/assets/{asset['id']}").json() == asset


def test_size_and_language_are_validated(client: httpx.Client, project: dict[str, Any]) -> None:
    pid = project["id"]
    err = assert_envelope(
        client.post("/v1/assets", json={"project_id": pid, "size_bytes": 63}),
        422,
        "validation_error",
    )
    assert err["fields"] == [
        {"field": "body.size_bytes", "message": "Upload-Length must be at least 64 bytes."}
    ]
    assert client.post("/v1/assets", json={"project_id": pid, "size_bytes": 64}).status_code == 201
    too_big = 50 * 1024**3 + 1
    assert_envelope(
        client.post("/v1/assets", json={"project_id": pid, "size_bytes": too_big}),
        413,
        "payload_too_large",
    )
    assert (
        client.post("/v1/assets", json={"project_id": pid, "size_bytes": 50 * 1024**3}).status_code
        == 201
    )
    for language in ("eng", "e", "1a", "", "é1"):
        err = assert_envelope(
            client.post(
                "/v1/assets", json={"project_id": pid, "size_bytes": 100, "language": language}
            ),
            422,
            "validation_error",
        )
        assert err["fields"][0]["field"] == "body.language"
    for body in ({"project_id": pid}, {"size_bytes": 100}, {"project_id": pid, "size_bytes": "x"}):
        assert_envelope(client.post("/v1/assets", json=body), 422, "validation_error")
    null_language = client.post(
        "/v1/assets", json={"project_id": pid, "size_bytes": 100, "language": None}
    ).json()
    assert null_language["language"] is None


def test_unknown_and_archived_projects(client: httpx.Client, project: dict[str, Any]) -> None:
    unknown = "01a20a01-d074-7786-9bc5-35bcaebcf301"
    assert_envelope(
        client.post("/v1/assets", json={"project_id": unknown, "size_bytes": 100}), 404, "not_found"
    )
    client.patch(f"/v1/projects/{project['id']}", json={"state": "archived"})
    assert_envelope(
        client.post("/v1/assets", json={"project_id": project["id"], "size_bytes": 100}),
        409,
        "conflict",
    )


def test_list_filters_and_pages(client: httpx.Client, project: dict[str, Any]) -> None:
    other = client.post("/v1/projects", json={"name": "other"}).json()
    mine = [create_asset(client, project["id"], 100 + i)[0]["id"] for i in range(3)]
    create_asset(client, other["id"], 100)
    page = client.get("/v1/assets", params={"project_id": project["id"]}).json()
    assert page["total"] == 3 and [a["id"] for a in page["items"]] == list(reversed(mine))
    assert "upload_url" not in page["items"][0] and "download_url" not in page["items"][0]
    assert set(page["items"][0]) == FIELDS
    assert client.get("/v1/assets").json()["total"] == 4
    assert client.get("/v1/assets", params={"state": "pending_upload"}).json()["total"] == 4
    assert client.get("/v1/assets", params={"state": "ready"}).json()["total"] == 0
    second = client.get("/v1/assets", params={"limit": 1, "offset": 1}).json()
    assert second["total"] == 4 and len(second["items"]) == 1
    assert_envelope(client.get("/v1/assets", params={"state": "nope"}), 422, "validation_error")


def test_delete_removes_the_asset_and_its_upload(
    client: httpx.Client, project: dict[str, Any]
) -> None:
    asset, url = create_asset(client, project["id"], 1000)
    assert client.delete(f"/v1/assets/{asset['id']}").status_code == 204
    assert_envelope(client.get(f"/v1/assets/{asset['id']}"), 404, "not_found")
    assert client.head(url, headers=TUS).status_code == 404
    assert_envelope(client.delete(f"/v1/assets/{asset['id']}"), 404, "not_found")
    assert_envelope(client.get("/v1/assets/not-a-uuid"), 404, "not_found")
