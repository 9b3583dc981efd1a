"""The S3 deployment's own paths, each on a server of its own (the S3 pass): download URLs that
redirect to a presigned URL of the bucket; housekeeping's abort of a multipart upload that no
upload owns; and the uploads' cross-node lock when Redis does not answer."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from redis import Redis

from roughy.db import Database
from roughy.storage.s3 import S3BlobStore, S3Location
from tests.conftest import REDIS_URL, Server, new_key, start_server
from tests.helpers import assert_envelope, create_asset, head_offset, patch, wait_for_state
from tests.relay import Relay
from tests.s3server import S3Server

pytestmark = [pytest.mark.s3, pytest.mark.postgresql]

MIB = 1024 * 1024


def _client(server: Server) -> httpx.Client:
    db = Database(server.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        key = new_key(db)
    finally:
        db.dispose()
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


def _project(c: httpx.Client) -> str:
    r = c.post("/v1/projects", json={"name": "S3"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _prefix(server: Server) -> str:
    return server.environ["ROUGHY_STORAGE_URL"].removeprefix("s3://").partition("/")[2] + "/"


@pytest.fixture(scope="module")
def presigning(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, s3_server: S3Server | None
) -> Iterator[Server]:
    """A server that redirects downloads to the bucket and treats any multipart upload no
    upload owns as an orphan at once (housekeeping every half second)."""
    assert s3_server is not None
    server = start_server(
        tmp_path_factory.mktemp("presigning"),
        database_url,
        ROUGHY_S3_PRESIGNED_DOWNLOADS="true",
        ROUGHY_S3_ORPHAN_GRACE_SECONDS="0",
        ROUGHY_REAPER_INTERVAL_SECONDS="0.5",
    )
    yield server
    server.stop()


def test_the_download_url_redirects_to_a_presigned_url_that_serves_ranges(
    presigning: Server, s3_server: S3Server, media: dict[str, Path]
) -> None:
    data = media["mp3"].read_bytes()
    with _client(presigning) as c:
        asset, url = create_asset(c, _project(c), len(data), filename="talk.mp3")
        assert patch(c, url, 0, data).status_code == 204
        ready = wait_for_state(c, asset["id"])
    assert ready["state"] == "ready", ready
    download = urljoin(presigning.base_url, ready["download_url"])
    r = httpx.get(download)
    assert r.status_code == 307, r.text
    location = r.headers["Location"]
    assert location.startswith(s3_server.endpoint + "/"), location  # the bucket, not the API
    assert "X-Amz-Signature=" in location
    part = httpx.get(location, headers={"Range": "bytes=100-4099"})
    assert part.status_code == 206, part.text
    assert part.content == data[100:4100]
    assert part.headers["Content-Range"] == f"bytes 100-4099/{len(data)}"
    assert 'filename="talk.mp3"' in part.headers["Content-Disposition"]
    whole = httpx.get(download, follow_redirects=True)
    assert hashlib.sha256(whole.content).digest() == hashlib.sha256(data).digest()
    assert httpx.get(location.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403


def test_housekeeping_aborts_an_orphan_multipart_upload_and_keeps_an_owned_one(
    presigning: Server, s3_server: S3Server, media: dict[str, Path]
) -> None:
    length = 20 * MIB
    head = media["mp3"].read_bytes()  # judged by its first chunk: media
    data = head + os.urandom(length - len(head))
    prefix = _prefix(presigning)
    # A crash between the store and the database: bytes in the bucket, no upload row.
    store = S3BlobStore(
        s3_server.client(),
        S3Location.parse(f"s3://{s3_server.bucket}/{prefix}"),
        max_parts=s3_server.max_parts,
    )
    orphan = str(uuid.uuid4())
    writer = store.open_upload(orphan, 0, length=length, recoverable=False)
    writer.write([data[: 10 * MIB]])  # a whole part, and an incomplete one
    writer.persist()  # in the bucket once it returns (the server may abort it at once)
    writer.close()
    with _client(presigning) as c:  # an upload under way: its multipart upload is owned
        asset, url = create_asset(c, _project(c), length)
        assert patch(c, url, 0, data[: 10 * MIB]).status_code == 204
        owned = asset["id"]

        deadline = time.monotonic() + 60
        while [k for k in s3_server.keys(prefix) if orphan in k] or any(
            orphan in k for k in s3_server.multipart_uploads(prefix)
        ):
            assert time.monotonic() < deadline, s3_server.keys(prefix)
            time.sleep(0.5)
        assert any(owned in k for k in s3_server.multipart_uploads(prefix))
        assert head_offset(c, url) == 10 * MIB
        assert patch(c, url, 10 * MIB, data[10 * MIB :]).status_code == 204  # still whole


@pytest.fixture
def redis_relay() -> Iterator[Relay]:
    relay = Relay.to(REDIS_URL)
    yield relay
    relay.close()


def test_redis_down_while_taking_the_upload_lock_answers_503_and_the_upload_goes_on_after(
    tmp_path: Path, database_url: str, redis_relay: Relay, media: dict[str, Path]
) -> None:
    redis = redis_relay.url("redis", "/" + REDIS_URL.rpartition("/")[2])
    server = start_server(tmp_path, database_url, ROUGHY_REDIS_URL=redis)
    try:
        with _client(server) as c:
            data = media["mp3"].read_bytes()
            half = len(data) // 2
            _, url = create_asset(c, _project(c), len(data))
            redis_relay.cut_off()
            r = patch(c, url, 0, data[:half])
            body = assert_envelope(r, 503, "service_unavailable")
            assert "Redis" in body["message"] and r.headers["Retry-After"]
            assert head_offset(c, url) == 0  # nothing counted
            redis_relay.restore()
            deadline = time.monotonic() + 30
            while (r := patch(c, url, 0, data[:half])).status_code == 503:
                assert time.monotonic() < deadline, r.text
                time.sleep(0.5)
            assert r.status_code == 204, r.text
            assert head_offset(c, url) == half
        # The upload's fencing counter goes by itself in time: no key left per upload ever made.
        fence = f"{server.environ['ROUGHY_QUEUE_NAME']}:upload-fence:{url.rsplit('/', 1)[1]}"
        assert 0 < Redis.from_url(REDIS_URL).ttl(fence) <= 24 * 3600
    finally:
        server.stop()
