"""The error envelope and request ids (for the framework's own errors too), and OpenAPI."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from roughy.middleware import RequestContextMiddleware
from tests.conftest import Server
from tests.helpers import assert_envelope


def test_unknown_route_and_wrong_method(client: httpx.Client, anon: httpx.Client) -> None:
    assert_envelope(anon.get("/v1/nothing-here"), 404, "not_found")
    assert_envelope(client.get("/nope"), 404, "not_found")
    r = client.put("/v1/projects", json={})
    assert_envelope(r, 405, "method_not_allowed")
    assert "POST" in r.headers["Allow"]


def test_validation_error_lists_fields(client: httpx.Client) -> None:
    err = assert_envelope(
        client.post("/v1/assets", json={"size_bytes": "many"}), 422, "validation_error"
    )
    fields = {f["field"] for f in err["fields"]}
    assert {"body.project_id", "body.size_bytes"} <= fields
    assert all(f["message"] for f in err["fields"])


def test_request_id_on_every_response(client: httpx.Client, anon: httpx.Client) -> None:
    for r in (
        client.get("/v1/projects"),
        anon.get("/v1/projects"),
        anon.options("/v1/uploads"),
        anon.get("/healthz"),
    ):
        assert len(r.headers["X-Request-Id"]) >= 16
    mine = client.get("/v1/projects", headers={"X-Request-Id": "trace-abc.123"})
    assert mine.headers["X-Request-Id"] == "trace-abc.123"


def test_request_id_is_logged(client: httpx.Client, server: Server) -> None:
    rid = client.get("/v1/users/me").headers["X-Request-Id"]

    def logged() -> bool:
        lines = server.log_path.read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        return any(r.get("request_id") == rid and r.get("path") == "/v1/users/me" for r in records)

    deadline = time.monotonic() + 5  # the access line is written once the answer has gone out
    while not logged() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert logged()


def test_unhandled_exceptions_answer_500_in_the_envelope() -> None:
    """The outermost middleware on an app that crashes: the only way to make the real one fail."""

    async def crashing_app(scope, receive, send):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    app = RequestContextMiddleware(crashing_app)
    transport = httpx.ASGITransport(app=app)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.get("/v1/anything")

    r = asyncio.run(call())
    assert_envelope(r, 500, "internal_error")
    assert "boom" not in r.text


def test_openapi_describes_every_route(anon: httpx.Client) -> None:
    r = anon.get("/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    expected = {
        "/v1/projects": {"get", "post"},
        "/v1/projects/{project_id}": {"get", "patch", "delete"},
        "/v1/assets": {"get", "post"},
        "/v1/assets/{asset_id}": {"get", "delete"},
        "/v1/assets/{asset_id}/download": {"get"},
        "/v1/uploads": {"options"},
        "/v1/uploads/{upload_id}": {"head", "patch", "delete"},
        "/v1/users/me": {"get"},
        "/v1/api-keys": {"get", "post"},
        "/v1/api-keys/{key_id}": {"delete"},
        "/v1/credits/balance": {"get"},
        "/v1/credits/history": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    created = paths["/v1/assets"]["post"]["responses"]
    assert {"Location", "Upload-Expires", "Tus-Resumable"} <= set(created["201"]["headers"])
    assert {"401", "404", "409", "413", "422"} <= set(created)
    patch = paths["/v1/uploads/{upload_id}"]["patch"]["responses"]
    assert {"204", "400", "404", "409", "412", "413", "415", "423", "460", "507"} <= set(patch)
    assert "Upload-Offset" in patch["204"]["headers"]
    assert anon.get("/v1/docs").status_code == 200


def test_text_no_database_can_keep_is_a_validation_error(client: httpx.Client) -> None:
    """A NUL or a lone surrogate (both legal in JSON) fit in no PostgreSQL text column: 422, not
    a 500 from the database (schemathesis found it)."""
    headers = {"Content-Type": "application/json"}
    for raw in ('{"name": "a\\u0000b"}', '{"name": "\\ud800"}'):
        for path in ("/v1/projects", "/v1/api-keys"):
            r = client.post(path, content=raw, headers=headers)
            body = assert_envelope(r, 422, "validation_error")
            assert [f["field"] for f in body["fields"]] == ["body.name"], body
    assert client.post("/v1/projects", json={"name": "Ünïcödé 🎬"}).status_code == 201
