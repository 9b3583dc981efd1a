"""The API docs page works offline and lets a key in; malformed input is said to be what it is;
the small things a new user meets first."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.conftest import Server
from tests.helpers import assert_envelope, cli, create_asset


def test_the_docs_page_needs_nothing_from_the_internet(anon: httpx.Client) -> None:
    for page in ("/docs", "/v1/docs"):
        r = anon.get(page)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text)
        assert sources, r.text
        for source in sources:
            assert source.startswith("/"), f"{page} loads {source} from elsewhere"
            got = anon.get(source)
            assert got.status_code == 200 and len(got.content) > 1000, source
        assert re.search(r"url:\s*['\"]/v1/openapi.json['\"]", r.text), r.text


def test_the_document_declares_the_key_and_the_errors(anon: httpx.Client) -> None:
    spec = anon.get("/openapi.json").json()
    assert spec == anon.get("/v1/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }
    paths = spec["paths"]
    assert paths["/v1/assets"]["post"]["security"] == [{"bearer": []}]
    assert paths["/v1/uploads/{upload_id}"]["patch"]["security"] == [{"bearer": []}]
    assert "402" in paths["/v1/assets"]["post"]["responses"]
    assert "402" in paths["/v1/uploads"]["post"]["responses"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert {"400", "415", "422"} <= set(operation["responses"]), (method, path)


def test_malformed_json_is_a_bad_request_that_says_where(client: httpx.Client) -> None:
    r = client.post(
        "/v1/projects", content=b'{"name": "a",}', headers={"Content-Type": "application/json"}
    )
    error = assert_envelope(r, 400, "bad_request")
    assert "not valid JSON" in error["message"] and "character 13" in error["message"], error
    assert "fields" not in error
    assert client.get("/v1/projects").json()["total"] == 0


def test_json_sent_without_its_content_type_says_so(client: httpx.Client) -> None:
    """curl -d sends application/x-www-form-urlencoded unless told otherwise."""
    r = client.post(
        "/v1/projects",
        content=b'{"name": "Interviews"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    error = assert_envelope(r, 415, "unsupported_media_type")
    assert "Content-Type: application/json" in error["message"], error
    assert client.get("/v1/projects").json()["total"] == 0
    untyped = client.post("/v1/projects", content=b'{"name": "Interviews"}')
    error = assert_envelope(untyped, 415, "unsupported_media_type")
    assert "without a Content-Type" in error["message"], error


def test_a_cut_of_an_asset_waiting_for_its_bytes_says_so(
    client: httpx.Client, project: dict[str, Any]
) -> None:
    asset, _ = create_asset(client, project["id"], 1000)
    error = assert_envelope(
        client.post("/v1/cuts", json={"asset_id": asset["id"]}), 409, "asset_processing"
    )
    assert "waiting for its upload" in error["message"], error


def test_a_negative_grant_works_as_written(server: Server) -> None:
    email = f"grant-{uuid.uuid4().hex[:8]}@x.io"
    cli(server.data_dir, server.database_url, "accounts", "create", email)
    start = int(cli(server.data_dir, server.database_url, "credits", "balance", email))
    after = cli(
        server.data_dir,
        server.database_url,
        "credits",
        "grant",
        email,
        "-5",
        "--type",
        "adjustment",
    )
    assert int(after) == start - 5
