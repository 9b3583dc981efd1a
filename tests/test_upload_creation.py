"""TUS creation at POST /v1/uploads, file names, upload tokens for web pages, and CORS: through
real HTTP against a real server."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from roughy.accounts import service as accounts
from roughy.db import Database
from roughy.uploads import tokens
from tests.conftest import Server
from tests.helpers import (
    OCTETS,
    TUS,
    assert_envelope,
    create_asset,
    head_offset,
    patch,
    wait_for_state,
)

ORIGIN = "https://recorder.example"
NAME = 'Interview – Zoë «final» "cut".mp3'


def metadata(**pairs: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def create(client: httpx.Client, length: int, meta: str | None, **headers: str) -> httpx.Response:
    h = {**TUS, "Upload-Length": str(length), **headers}
    if meta is not None:
        h["Upload-Metadata"] = meta
    return client.post("/v1/uploads", headers=h)


def disposition_name(header: str) -> str:
    """The name a browser saves under: ``filename*`` (RFC 8187) when given, else ``filename``."""
    params = dict(part.strip().split("=", 1) for part in header.split(";")[1:] if "=" in part)
    if "filename*" in params:
        charset, _, encoded = params["filename*"].partition("''")
        assert charset.upper() == "UTF-8", header
        return unquote(encoded, encoding="utf-8")
    return params["filename"].strip('"')


def test_tus_creation_makes_the_asset_post_assets_makes(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path], server: Server
) -> None:
    data = media["mp3"].read_bytes()
    r = create(
        client,
        len(data),
        metadata(project_id=project["id"], filename=NAME, filetype="audio/mpeg", language="EN"),
    )
    assert r.status_code == 201, r.text
    url = r.headers["Location"]
    assert url.startswith(server.base_url + "/v1/uploads/") and "Upload-Expires" in r.headers
    asset_id = url.rpartition("/")[2]
    asset = client.get(f"/v1/assets/{asset_id}").json()
    assert asset["state"] == "pending_upload" and asset["upload_url"] == url
    assert (asset["filename"], asset["language"], asset["project_id"]) == (
        NAME,
        "en",
        project["id"],
    )
    assert asset["type"] is None  # filetype is not trusted: the bytes will tell

    assert head_offset(client, url) == 0
    assert patch(client, url, 0, data).status_code == 204
    ready = wait_for_state(client, asset_id)
    assert ready["state"] == "ready" and ready["filename"] == NAME
    assert [a["filename"] for a in client.get("/v1/assets").json()["items"]] == [NAME]

    got = httpx.get(ready["download_url"])
    assert got.status_code == 200 and got.content == data
    assert disposition_name(got.headers["Content-Disposition"]) == NAME
    fallback = got.headers["Content-Disposition"].split(";")[1].strip()
    assert fallback.isascii() and fallback.startswith('filename="Interview _ Zo_')
    head = httpx.head(ready["download_url"])
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["Content-Disposition"] == got.headers["Content-Disposition"]
    part = httpx.head(ready["download_url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.headers["Content-Length"] == "100"


def test_creation_with_upload_stores_the_first_chunk(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp4"].read_bytes()
    first = data[:40_000]
    r = client.post(
        "/v1/uploads",
        content=first,
        headers={
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata(project_id=project["id"]),
            "Content-Type": OCTETS,
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["Upload-Offset"] == str(len(first))
    url = r.headers["Location"]
    assert patch(client, url, len(first), data[len(first) :]).status_code == 204
    ready = wait_for_state(client, url.rpartition("/")[2])
    assert ready["state"] == "ready" and ready["type"] == "video"
    assert hashlib.sha256(httpx.get(ready["download_url"]).content).digest() == (
        hashlib.sha256(data).digest()
    )
    assert ready["filename"] is None  # no name given: downloads are named by id, as before
    got = httpx.get(ready["download_url"])
    assert got.headers["Content-Disposition"] == f'attachment; filename="{ready["id"]}.mp4"'


def test_a_first_chunk_that_is_not_media_creates_nothing(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["pdf"].read_bytes()
    r = client.post(
        "/v1/uploads",
        content=data,
        headers={
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata(project_id=project["id"]),
            "Content-Type": OCTETS,
        },
    )
    assert_envelope(r, 409, "conflict")
    assert client.get("/v1/assets").json()["total"] == 0


def test_creation_refuses_bad_input_in_the_envelope_and_creates_nothing(
    client: httpx.Client, anon: httpx.Client, project: dict[str, Any], server: Server, db: Database
) -> None:
    pid = project["id"]
    good = metadata(project_id=pid)

    def field(r: httpx.Response) -> str:
        return str(assert_envelope(r, 422, "validation_error")["fields"][0]["field"])

    assert field(create(client, 1000, None)) == "header.Upload-Metadata.project_id"
    assert field(create(client, 1000, "")) == "header.Upload-Metadata.project_id"  # tuspy's
    assert field(create(client, 1000, metadata(project_id="x"))) == (
        "header.Upload-Metadata.project_id"
    )
    assert field(create(client, 1000, metadata(project_id=pid, language="eng"))) == (
        "header.Upload-Metadata.language"
    )
    assert field(create(client, 1000, metadata(project_id=pid, filename="a\nb.mp3"))) == (
        "header.Upload-Metadata.filename"
    )
    assert field(create(client, 63, good)) == "header.Upload-Length"
    assert_envelope(create(client, 50 * 1024**3 + 1, good), 413, "payload_too_large")
    assert_envelope(client.post("/v1/uploads", headers=TUS), 400, "bad_request")
    assert_envelope(create(client, 1000, good + ",project_id eA=="), 400, "bad_request")
    assert_envelope(create(client, 1000, "project_id not*base64"), 400, "bad_request")
    assert_envelope(create(client, 1000, "filename //79"), 400, "bad_request")  # not UTF-8
    deferred = {**TUS, "Upload-Defer-Length": "1", "Upload-Metadata": good}
    assert_envelope(client.post("/v1/uploads", headers=deferred), 400, "bad_request")
    no_version = {"Upload-Length": "1000", "Upload-Metadata": good}
    assert_envelope(client.post("/v1/uploads", headers=no_version), 412, "precondition_failed")
    assert_envelope(
        create(client, 1000, metadata(project_id="01a20a01-d074-7786-9bc5-35bcaebcf301")),
        404,
        "not_found",
    )
    assert_envelope(create(anon, 1000, good), 401, "unauthenticated")
    assert client.get("/v1/assets").json()["total"] == 0

    archived = client.post("/v1/projects", json={"name": "old"}).json()["id"]
    client.patch(f"/v1/projects/{archived}", json={"state": "archived"})
    assert_envelope(create(client, 1000, metadata(project_id=archived)), 409, "conflict")

    with db.session() as session:  # an account without credits: checked as POST /v1/assets does
        account = accounts.create_account(session, f"broke-{uuid.uuid4().hex[:8]}@x.io")
        key = accounts.mint_key(session, account).plaintext
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}
    ) as broke:
        pid2 = broke.post("/v1/projects", json={"name": "p"}).json()["id"]
        assert_envelope(create(broke, 1000, metadata(project_id=pid2)), 402, "insufficient_credits")
        r = broke.post("/v1/assets", json={"project_id": pid2, "size_bytes": 1000})
        assert_envelope(r, 402, "insufficient_credits")


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "name a file"), ("a\x00b.mp3", "control"), ("x" * 256 + ".mp3", "255")],
)
def test_a_bad_filename_is_a_validation_error(
    client: httpx.Client, project: dict[str, Any], name: str, message: str
) -> None:
    r = client.post(
        "/v1/assets", json={"project_id": project["id"], "size_bytes": 1000, "filename": name}
    )
    error = assert_envelope(r, 422, "validation_error")
    assert (
        error["fields"][0]["field"] == "body.filename" and message in error["fields"][0]["message"]
    )
    assert client.get("/v1/assets").json()["total"] == 0


def test_a_path_is_cut_to_the_file_name(client: httpx.Client, project: dict[str, Any]) -> None:
    asset, _ = create_asset(client, project["id"], 1000, filename="C:\\fakepath\\take 1.wav")
    assert asset["filename"] == "take 1.wav"


# --- upload tokens ---------------------------------------------------------------------------


def test_an_upload_token_may_write_its_upload_and_nothing_else(
    client: httpx.Client, server: Server, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    other, other_url = create_asset(client, project["id"], 1000)
    r = client.post(
        "/v1/assets",
        json={"project_id": project["id"], "size_bytes": len(data), "upload_token": True},
    )
    assert r.status_code == 201, r.text
    asset, url, token = r.json(), r.headers["Location"], r.json()["upload_token"]
    assert token.startswith("ut_") and asset["upload_url"] == url
    assert client.get(f"/v1/assets/{asset['id']}").json()["upload_token"] is None  # shown once

    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as page:
        # nothing to read, list or make
        for path in ("/v1/assets", f"/v1/assets/{asset['id']}", "/v1/projects", "/v1/users/me"):
            assert_envelope(page.get(path), 401, "unauthenticated")
        r = page.post("/v1/assets", json={"project_id": project["id"], "size_bytes": 1000})
        assert_envelope(r, 401, "unauthenticated")
        # another upload is not found, whatever the verb
        assert page.head(other_url, headers=TUS).status_code == 404
        assert_envelope(patch(page, other_url, 0, data), 404, "not_found")
        assert_envelope(page.delete(other_url, headers=TUS), 404, "not_found")
        assert head_offset(client, other_url) == 0
        # its own upload: HEAD and PATCH
        assert head_offset(page, url) == 0
        assert patch(page, url, 0, data[:5000]).status_code == 204
        # TUS creation with it finds its upload (the length must be its own)
        found = create(page, len(data), metadata(filename="from the page.mp3"))
        assert found.status_code == 201 and found.headers["Location"] == url
        assert_envelope(create(page, len(data) + 1, None), 409, "conflict")
        assert patch(page, url, 5000, data[5000:]).status_code == 204
    ready = wait_for_state(client, asset["id"])
    assert ready["state"] == "ready" and ready["filename"] == "from the page.mp3"
    assert httpx.get(ready["download_url"]).content == data
    assert other["id"] in {a["id"] for a in client.get("/v1/assets").json()["items"]}


def test_upload_tokens_expire_cannot_be_forged_and_end_with_their_asset(
    client: httpx.Client, server: Server, project: dict[str, Any]
) -> None:
    r = client.post(
        "/v1/assets", json={"project_id": project["id"], "size_bytes": 1000, "upload_token": True}
    )
    asset, url, token = r.json(), r.headers["Location"], r.json()["upload_token"]
    key = (server.data_dir / "secret.key").read_text().strip().encode()
    expired = tokens.mint(key, asset["id"], -1)  # signed by the server's key, a second ago
    forged = tokens.mint(b"not the server's key", asset["id"], 3600)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (expired, forged, tampered, "ut_", "ut_" + "A" * 500):
        r = httpx.head(url, headers={**TUS, "Authorization": f"Bearer {bad}"})
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer", bad
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.delete(url, headers={**TUS, **auth}).status_code == 204  # termination
    assert_envelope(client.get(f"/v1/assets/{asset['id']}"), 404, "not_found")
    assert httpx.head(url, headers={**TUS, **auth}).status_code == 404


def test_a_page_on_another_origin_passes_cors(
    anon: httpx.Client, client: httpx.Client, project: dict[str, Any]
) -> None:
    """What a browser asks before and while tus-js-client creates and sends an upload."""
    r = anon.options(
        "/v1/uploads",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": (
                "authorization, tus-resumable, upload-length, upload-metadata, content-type"
            ),
        },
    )
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN)
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    for name in ("authorization", "tus-resumable", "upload-length", "upload-metadata"):
        assert name in allowed
    created = create(client, 1000, metadata(project_id=project["id"]), Origin=ORIGIN)
    assert created.status_code == 201
    assert created.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN)
    exposed = {
        h.strip().lower() for h in created.headers["Access-Control-Expose-Headers"].split(",")
    }
    assert {"location", "upload-offset", "upload-length", "tus-resumable"} <= set(exposed)


def test_options_advertises_creation(anon: httpx.Client) -> None:
    r = anon.options("/v1/uploads")
    assert {"creation", "creation-with-upload"} <= set(r.headers["Tus-Extension"].split(","))


def test_renders_are_named_after_the_file(
    client: httpx.Client, project: dict[str, Any], media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    asset, url = create_asset(client, project["id"], len(data), filename="Zoë's talk.mp3")
    assert patch(client, url, 0, data).status_code == 204
    assert wait_for_state(client, asset["id"])["state"] == "ready"
    r = client.post("/v1/renders", json={"asset_id": asset["id"], "output": {"format": "m4a"}})
    assert r.status_code == 201, r.text
    render = r.json()
    deadline = time.monotonic() + 120
    while render["state"] not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, render
        time.sleep(0.2)
        render = client.get(f"/v1/renders/{render['id']}").json()
    assert render["state"] == "completed", render
    head = httpx.head(render["download_url"])
    assert head.status_code == 200 and head.content == b""
    assert disposition_name(head.headers["Content-Disposition"]) == "Zoë's talk-full-source.m4a"
    got = httpx.get(render["download_url"])
    assert got.headers["Content-Disposition"] == head.headers["Content-Disposition"]
    assert len(got.content) == int(head.headers["Content-Length"]) > 0
