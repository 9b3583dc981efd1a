"""Scale-out on S3, with several machines' worth of processes: two API nodes
(``roughy serve --no-worker``) and two workers, one PostgreSQL database, one Redis queue and one
S3 bucket (the S3 pass: ``--db postgresql --queue redis --storage s3``). Clients switch node on
every PATCH; a node killed mid-PATCH costs nothing acknowledged; the asset is processed from
the bucket, and deleting it leaves no object behind."""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.uploader import Uploader

from roughy.db import Database
from tests.conftest import Server, ffmpeg, new_key, start_server, start_worker
from tests.helpers import OCTETS, create_asset, raw_patch, wait_for_state
from tests.s3server import S3Server
from tests.scaleout.alternating import alternating
from tests.test_clients import run_tus_js, tus_js  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.s3, pytest.mark.postgresql]

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


@dataclass
class Cluster:
    nodes: list[Server]
    workers: list[subprocess.Popen[bytes]]
    key: str
    s3: S3Server
    prefix: str

    @property
    def ports(self) -> list[int]:
        return [int(urlsplit(n.base_url).port or 0) for n in self.nodes]

    def client(self, node: int = 0) -> httpx.Client:
        return httpx.Client(
            base_url=self.nodes[node].base_url,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=60,
        )

    def on(self, node: int, url: str) -> str:
        """``url`` (of any node) on node ``node``."""
        parts = urlsplit(url)
        return self.nodes[node].base_url + parts.path


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server | None, database_url: str
) -> Iterator[Cluster]:
    assert s3_server is not None
    tmp = tmp_path_factory.mktemp("cluster")
    prefix = f"cluster-{secrets.token_hex(4)}"
    shared = {
        **s3_server.env(prefix),
        "ROUGHY_EMBEDDED_WORKER": "false",
        "ROUGHY_SECRET_KEY": secrets.token_hex(32),
        "ROUGHY_QUEUE_NAME": f"cluster-{secrets.token_hex(4)}",
    }
    for name in ("a", "b"):
        (tmp / name).mkdir()
    first = start_server(tmp / "a", database_url, **shared)
    second = start_server(tmp / "b", database_url, ROUGHY_DATABASE_URL=first.database_url, **shared)
    workers = [start_worker(first, tmp / f"worker-{i}.log") for i in range(2)]
    db = Database(first.database_url.replace("postgresql://", "postgresql+psycopg://"))
    key = new_key(db)
    db.dispose()
    made = Cluster([first, second], workers, key, s3_server, prefix)
    yield made
    for worker in workers:
        worker.terminate()
    for node in made.nodes:
        node.stop()
    for worker in workers:
        worker.wait(10)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real media over two parts long (8 MiB parts): a 40-second video at a high bitrate."""
    path = tmp_path_factory.mktemp("recording") / "talk.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=40,noise=alls=60:allf=t",
        "-f", "lavfi", "-i", "sine=frequency=330:duration=40",
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "5M", "-minrate", "5M", "-maxrate", "5M",
        "-bufsize", "2M", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path),
    )  # fmt: skip
    assert path.stat().st_size > 17 * MIB, path.stat().st_size
    return path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _project(cluster: Cluster) -> str:
    with cluster.client() as c:
        r = c.post("/v1/projects", json={"name": "Scale-out"})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def _ready_and_intact(
    cluster: Cluster, asset_id: str, source: Path, node: int = 1
) -> dict[str, Any]:
    with cluster.client(node) as c:
        asset = wait_for_state(c, asset_id, ("ready", "failed", "pending_payment"), timeout=180)
    assert asset["state"] == "ready", asset
    downloaded = httpx.get(
        urljoin(cluster.nodes[1 - node].base_url, asset["download_url"]), timeout=60
    )
    assert downloaded.status_code == 200
    assert _sha256(downloaded.content) == _sha256(source.read_bytes())
    return asset


def _object_keys(cluster: Cluster) -> list[str]:
    return cluster.s3.keys(cluster.prefix + "/") + [
        f"(multipart) {k}" for k in cluster.s3.multipart_uploads(cluster.prefix + "/")
    ]


def test_curl_patches_alternate_between_nodes(cluster: Cluster, recording: Path) -> None:
    data = recording.read_bytes()
    with cluster.client() as c:
        asset, url = create_asset(c, _project(cluster), len(data))
    offset, chunk, turn = 0, 3 * MIB + 17, 0  # tails inside parts, parts finished across nodes
    while offset < len(data):
        body = data[offset : offset + chunk]
        done = subprocess.run(
            ["curl", "-sS", "-X", "PATCH", "-o", "/dev/null", "-w", "%{http_code}",
             "-H", f"Authorization: Bearer {cluster.key}", "-H", "Tus-Resumable: 1.0.0",
             "-H", f"Upload-Offset: {offset}", "-H", f"Content-Type: {OCTETS}",
             "--data-binary", "@-", cluster.on(turn % 2, url)],
            input=body, capture_output=True, check=True,
        )  # fmt: skip
        assert done.stdout == b"204", (done.stdout, done.stderr)
        offset += len(body)
        turn += 1
    assert turn >= 6
    _ready_and_intact(cluster, asset["id"], recording)


def test_tuspy_through_a_proxy_that_switches_node_on_every_request(
    cluster: Cluster, recording: Path
) -> None:
    with cluster.client() as c:
        asset, url = create_asset(c, _project(cluster), recording.stat().st_size)
    with alternating(cluster.ports) as proxy:
        proxied = proxy.url + urlsplit(url).path
        tus = TusClient(proxied, headers={"Authorization": f"Bearer {cluster.key}"})
        Uploader(str(recording), url=proxied, client=tus, chunk_size=5 * MIB).upload()
        patches = [port for line, port in proxy.requests if line.startswith("PATCH")]
    assert len(patches) >= 4 and len(set(patches)) == 2, proxy.requests
    _ready_and_intact(cluster, asset["id"], recording)


def test_tus_js_client_through_a_proxy_that_switches_node_on_every_request(
    cluster: Cluster,
    recording: Path,
    tus_js: Path,  # noqa: F811
) -> None:
    with cluster.client() as c:
        asset, url = create_asset(c, _project(cluster), recording.stat().st_size)
    with alternating(cluster.ports) as proxy:
        proxied = proxy.url + urlsplit(url).path
        run_tus_js(tus_js, cluster.nodes[0], recording, proxied, cluster.key, chunk_size=6 * MIB)
        patches = [port for line, port in proxy.requests if line.startswith("PATCH")]
    assert len(patches) >= 3 and len(set(patches)) == 2, proxy.requests
    _ready_and_intact(cluster, asset["id"], recording)


def test_a_patch_on_another_node_while_one_writes_gets_423_and_never_interleaves(
    cluster: Cluster, recording: Path
) -> None:
    data = recording.read_bytes()
    with cluster.client() as c:
        asset, url = create_asset(c, _project(cluster), len(data))
    writing = raw_patch(cluster.on(0, url), cluster.key, 0, len(data), data[: 2 * MIB])
    try:
        time.sleep(0.5)  # node 0 holds the upload, its PATCH still open
        with cluster.client(1) as c:
            r = c.patch(
                cluster.on(1, url),
                content=data,
                headers={**TUS, "Upload-Offset": "0", "Content-Type": OCTETS},
            )
        assert r.status_code == 423, r.text
        assert r.json()["error"]["code"] == "upload_locked"
        writing.sendall(data[2 * MIB :])
        answer = writing.recv(4096)
        assert answer.startswith(b"HTTP/1.1 204"), answer
    finally:
        writing.close()
    _ready_and_intact(cluster, asset["id"], recording)


def test_a_node_killed_mid_patch_and_the_upload_finished_through_the_other(
    cluster: Cluster, recording: Path, tmp_path: Path, database_url: str
) -> None:
    data = recording.read_bytes()
    with cluster.client() as c:
        asset, url = create_asset(c, _project(cluster), len(data))
    victim = cluster.nodes[0]
    sock = raw_patch(cluster.on(0, url), cluster.key, 0, len(data), data[: 11 * MIB])
    with cluster.client(1) as c:  # wait until the victim holds the bytes it was sent
        time.sleep(1.0)
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait(10)
        sock.close()
        # The dead node's lease holds the upload until it lapses: 423, then the PATCH goes.
        deadline = time.monotonic() + 90
        while True:
            head = c.head(cluster.on(1, url), headers=TUS)
            assert head.status_code == 200, head.text
            offset = int(head.headers["Upload-Offset"])
            assert 0 <= offset < len(data)
            r = c.patch(
                cluster.on(1, url),
                content=data[offset:],
                headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OCTETS},
            )
            if r.status_code != 423 or time.monotonic() > deadline:
                break
            time.sleep(float(r.headers.get("Retry-After", "1")))
        assert r.status_code == 204, r.text
    _ready_and_intact(cluster, asset["id"], recording, node=1)
    # The node comes back, on the same database, queue and bucket.
    cluster.nodes[0] = start_server(
        victim.data_dir.parent, database_url, **{
            k: v for k, v in victim.environ.items()
            if k.startswith("ROUGHY_") and k not in ("ROUGHY_PORT",)
        },
    )  # fmt: skip


def test_deleting_an_asset_removes_every_object_of_it(cluster: Cluster, recording: Path) -> None:
    data = recording.read_bytes()
    project = _project(cluster)
    with cluster.client() as c:
        asset, url = create_asset(c, project, len(data))
        r = c.patch(
            url, content=data, headers={**TUS, "Upload-Offset": "0", "Content-Type": OCTETS}
        )
        assert r.status_code == 204, r.text
        _ready_and_intact(cluster, asset["id"], recording)
        # and an upload left half-way, terminated
        half, half_url = create_asset(c, project, len(data))
        r = c.patch(
            half_url,
            content=data[: 10 * MIB],
            headers={**TUS, "Upload-Offset": "0", "Content-Type": OCTETS},
        )
        assert r.status_code == 204, r.text
        assert any(asset["id"] in k for k in _object_keys(cluster))
        assert c.delete(f"/v1/assets/{asset['id']}").status_code in (200, 204)
        assert c.delete(half_url, headers=TUS).status_code == 204
    deadline = time.monotonic() + 60
    while left := [k for k in _object_keys(cluster) if asset["id"] in k or half["id"] in k]:
        assert time.monotonic() < deadline, left
        time.sleep(0.5)
