"""Jobs read a recording in S3 with Range requests, never by downloading it first: the tools
(PyAV, ffmpeg) are handed a presigned URL, and a probe reads the header and a packet near the
end. Counted on the wire: every byte the S3 server sends goes through a relay of ours."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from roughy.media.probe import probe, streams
from roughy.storage.files import ObjectFiles
from roughy.storage.s3 import S3BlobStore, S3Location, client_from
from tests.conftest import ffmpeg
from tests.relay import Relay
from tests.s3server import ACCESS_KEY, SECRET_KEY, S3Server

pytestmark = pytest.mark.s3


@pytest.fixture
def counted(s3_server: S3Server | None) -> Iterator[tuple[S3BlobStore, Relay]]:
    if s3_server is None:
        pytest.skip("the S3 store runs in the S3 pass (--storage s3)")
    proxy = Relay.to(s3_server.endpoint)
    client = client_from(proxy.url(), "us-east-1", ACCESS_KEY, SECRET_KEY)
    location = S3Location.parse(f"s3://{s3_server.bucket}/ranged-{uuid.uuid4().hex[:8]}")
    yield S3BlobStore(client, location, max_parts=s3_server.max_parts), proxy
    proxy.close()


@pytest.fixture(scope="module")
def large_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 92 MB of real media (raw video: cheap to make), its index at the end (no
    faststart), so a probe must read the start, then seek to the end and back."""
    path = tmp_path_factory.mktemp("ranged") / "raw.mov"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=8",
        "-f", "lavfi", "-i", "sine=frequency=330:duration=8",
        "-c:v", "rawvideo", "-pix_fmt", "uyvy422", "-c:a", "pcm_s16le", "-shortest", str(path),
    )  # fmt: skip
    return path


def test_probing_an_object_in_s3_reads_a_small_share_of_its_bytes(
    counted: tuple[S3BlobStore, Relay], large_recording: Path, tmp_path: Path
) -> None:
    store, proxy = counted
    size = large_recording.stat().st_size
    copy = tmp_path / "upload.mov"
    copy.write_bytes(large_recording.read_bytes())
    store.put_file("recording", copy)
    files = ObjectFiles(store, tmp_path / "cache", limit_bytes=1024**3)

    before_bytes, before_connections = proxy.bytes_down, proxy.connections
    with files.source("recording") as source:
        assert isinstance(source, str) and source.startswith(proxy.url())  # a URL, not a copy
        measured = probe(source)
        shape = streams(source)
    read = proxy.bytes_down - before_bytes

    assert measured.has_video and measured.has_audio
    assert 7_500 <= measured.duration_ms <= 8_500, measured
    assert (shape.width, shape.height) == (640, 360)
    assert read < size / 10, (read, size)  # the header, a packet near the end, one frame
    assert proxy.connections - before_connections >= 2  # it seeks: more than one request
    assert not list((tmp_path / "cache").rglob("*.*")) and not list(
        (tmp_path / "cache").glob("objects/*")
    )  # nothing was copied to the machine


def test_a_missing_object_is_missing_before_any_tool_runs(
    counted: tuple[S3BlobStore, Relay], tmp_path: Path
) -> None:
    store, _ = counted
    files = ObjectFiles(store, tmp_path / "cache", limit_bytes=1024**3)
    with pytest.raises(FileNotFoundError), files.source("nothing"):
        pass
