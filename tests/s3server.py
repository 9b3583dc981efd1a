"""The S3 pass's server: OpenStack Swift with s3api on loopback (scripts/s3-server-start.sh),
started once for the session on free ports and stopped at its end."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ACCESS_KEY, SECRET_KEY = "test:tester", "testing"


@dataclass
class S3Server:
    endpoint: str
    bucket: str
    max_parts: int
    directory: Path

    def client(self):  # type: ignore[no-untyped-def]
        from roughy.storage.s3 import client_from

        return client_from(self.endpoint, "us-east-1", ACCESS_KEY, SECRET_KEY)

    def env(self, prefix: str) -> dict[str, str]:
        """The settings of a Roughy process storing under ``prefix`` of the bucket."""
        return {
            "ROUGHY_STORAGE_URL": f"s3://{self.bucket}/{prefix}",
            "ROUGHY_S3_ENDPOINT_URL": self.endpoint,
            "ROUGHY_S3_REGION": "us-east-1",
            "ROUGHY_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "ROUGHY_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "ROUGHY_S3_MAX_PARTS": str(self.max_parts),
        }

    def keys(self, prefix: str = "") -> list[str]:
        """Every key in the bucket under ``prefix``, the parts of multipart uploads too: Swift
        keeps them in a container of their own, ``<bucket>+segments``, which S3 cannot name
        (listed through Swift's own API)."""
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        found = [o["Key"] for page in pages for o in page.get("Contents", [])]
        return found + [f"(segment) {name}" for name in self._segments(prefix)]

    def _segments(self, prefix: str) -> list[str]:
        auth = httpx.get(
            f"{self.endpoint}/auth/v1.0",
            headers={"X-Auth-User": ACCESS_KEY, "X-Auth-Key": SECRET_KEY},
        )
        auth.raise_for_status()
        listed = httpx.get(
            f"{auth.headers['X-Storage-Url']}/{self.bucket}+segments",
            params={"prefix": prefix, "format": "json"},
            headers={"X-Auth-Token": auth.headers["X-Auth-Token"]},
        )
        if listed.status_code == 404:
            return []
        listed.raise_for_status()
        return [item["name"] for item in listed.json()]

    def multipart_uploads(self, prefix: str = "") -> list[str]:
        page = self.client().list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return [u["Key"] for u in page.get("Uploads", [])]

    def stop(self) -> None:
        subprocess.run(
            [ROOT / "scripts/s3-server-stop.sh"],
            env={**os.environ, "S3_SERVER_DIR": str(self.directory), "S3_SERVER_PURGE": "1"},
            check=False,
        )


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_run(count: int) -> int:
    for _ in range(200):
        base = random.randrange(20000, 60000)
        if all(_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no free loopback ports")


def start(directory: Path, max_parts: int) -> S3Server:
    port, backend = _free_run(1), _free_run(4)
    env = {
        **os.environ,
        "S3_SERVER_DIR": str(directory),
        "S3_PORT": str(port),
        "S3_BACKEND_PORT": str(backend),
        "S3_MAX_PARTS": str(max_parts),
    }
    subprocess.run([ROOT / "scripts/s3-server-start.sh"], env=env, check=True)
    server = S3Server(f"http://127.0.0.1:{port}", f"roughy-{uuid.uuid4().hex[:8]}", max_parts,
                      directory)  # fmt: skip
    server.client().create_bucket(Bucket=server.bucket)
    return server
