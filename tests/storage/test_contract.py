"""The contract every blob store keeps, run on each: the local directory always, and the S3
store in the S3 pass (a real S3 server, tests/s3server.py), with the part limit it was started
with. Uploads are written the way PATCHes write them: open at the acknowledged offset, write,
persist, close; a later writer (another request, maybe another node) opens where it stopped."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from roughy.storage.base import BlobStore, UploadBusy
from roughy.storage.files import ObjectFiles
from roughy.storage.local import LocalBlobStore
from roughy.storage.s3parts import MIB
from tests.s3server import S3Server


@pytest.fixture(params=["local", "s3"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server | None
) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs", durable=False)
        return
    if s3_server is None:
        pytest.skip("the S3 store runs in the S3 pass (--storage s3)")
    from roughy.storage.s3 import S3BlobStore, S3Location

    prefix = f"contract-{uuid.uuid4().hex[:8]}"
    yield S3BlobStore(
        s3_server.client(),
        S3Location.parse(f"s3://{s3_server.bucket}/{prefix}"),
        max_parts=s3_server.max_parts,
    )


def _write(
    store: BlobStore, upload_id: str, data: bytes, offset: int, end: int, length: int
) -> int:
    """One request's bytes ``offset``-``end``, in pieces of uneven sizes; returns ``end``."""
    writer = store.open_upload(upload_id, offset, length=length, recoverable=False)
    try:
        at = offset
        while at < end:
            step = min(end - at, 700 * 1024 + 13)
            writer.write([data[at : at + step // 2], data[at + step // 2 : at + step]])
            at += step
        writer.persist()
    finally:
        writer.close()
    return end


def _read(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    end = store.object_size(key) if end is None else end
    return b"".join(store.read_object(key, start, end))


def _stored_keys(store: BlobStore, s3_server: S3Server | None) -> list[str]:
    """What the store holds, whatever it is (files, or keys under its prefix, with the parts
    of unfinished multipart uploads)."""
    if isinstance(store, LocalBlobStore):
        return [str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file()]
    from roughy.storage.s3 import S3BlobStore

    assert isinstance(store, S3BlobStore) and s3_server is not None
    return s3_server.keys(store.prefix) + [
        f"(multipart) {key}" for key in s3_server.multipart_uploads(store.prefix)
    ]


@pytest.mark.parametrize(
    "cuts",
    [
        [21 * MIB + 5],  # one request: parts and a short last one
        [1, 3 * MIB, 8 * MIB, 8 * MIB + 1, 17 * MIB, 21 * MIB + 5],  # tails, exact boundaries
    ],
    ids=["one-request", "many-requests"],
)
def test_an_upload_written_by_several_requests_reads_back_whole(
    store: BlobStore, cuts: list[int]
) -> None:
    data = os.urandom(cuts[-1])
    upload_id = str(uuid.uuid4())
    offset = 0
    for end in cuts:
        offset = _write(store, upload_id, data, offset, end, len(data))
    store.finish_upload(upload_id, upload_id)
    assert store.object_size(upload_id) == len(data)
    assert hashlib.sha256(_read(store, upload_id)).digest() == hashlib.sha256(data).digest()
    assert _read(store, upload_id, 8 * MIB - 3, 8 * MIB + 4) == data[8 * MIB - 3 : 8 * MIB + 4]
    assert _read(store, upload_id, len(data) - 1) == data[-1:]


def test_bytes_past_the_acknowledged_offset_are_replaced_by_the_next_writer(
    store: BlobStore,
) -> None:
    """A writer acknowledged 9 MiB, then stored up to 19 MiB (a whole part among them) and died
    before they were counted: the next writer starts at 9 MiB, and what it writes is what the
    object holds."""
    length = 20 * MIB
    first, second = os.urandom(length), os.urandom(length)
    upload_id = str(uuid.uuid4())
    writer = store.open_upload(upload_id, 0, length=length, recoverable=False)
    writer.write([first[: 9 * MIB]])
    writer.persist()  # acknowledged
    writer.write([first[9 * MIB : 19 * MIB]])
    writer.persist()  # never acknowledged
    writer.close()
    _write(store, upload_id, second, 9 * MIB, length, length)
    store.finish_upload(upload_id, upload_id)
    assert _read(store, upload_id) == first[: 9 * MIB] + second[9 * MIB :]


def test_rollback_forgets_what_was_written_since_the_last_persist(store: BlobStore) -> None:
    length = 12 * MIB
    data, noise = os.urandom(length), os.urandom(length)
    upload_id = str(uuid.uuid4())
    writer = store.open_upload(upload_id, 0, length=length, recoverable=False)
    writer.write([data[: 3 * MIB]])
    writer.persist()
    writer.write([noise[3 * MIB : 10 * MIB]])  # crosses a part boundary
    writer.rollback()
    assert writer.written == 3 * MIB
    writer.write([data[3 * MIB :]])
    writer.persist()
    writer.close()
    store.finish_upload(upload_id, upload_id)
    assert _read(store, upload_id) == data


def test_discard_removes_every_byte_of_an_unfinished_upload(
    store: BlobStore, s3_server: S3Server | None
) -> None:
    length = 30 * MIB
    data = os.urandom(length)
    upload_id = str(uuid.uuid4())
    _write(store, upload_id, data, 0, 17 * MIB + 99, length)  # two parts and a tail
    assert _stored_keys(store, s3_server)
    store.discard_upload(upload_id)
    store.discard_upload(upload_id)  # again: no error
    assert _stored_keys(store, s3_server) == []


def test_delete_removes_the_object_and_nothing_is_left(
    store: BlobStore, s3_server: S3Server | None
) -> None:
    data = os.urandom(9 * MIB)
    upload_id = str(uuid.uuid4())
    _write(store, upload_id, data, 0, len(data), len(data))
    store.finish_upload(upload_id, upload_id)
    store.delete_object(upload_id)
    store.delete_object(upload_id)  # again: no error
    with pytest.raises(FileNotFoundError):
        store.object_size(upload_id)
    with pytest.raises(FileNotFoundError):
        _read(store, upload_id, 0, 10)
    assert _stored_keys(store, s3_server) == []


def test_a_file_becomes_an_object_and_comes_back(store: BlobStore, tmp_path: Path) -> None:
    source, back = tmp_path / "render.mp4", tmp_path / "back.mp4"
    data = os.urandom(3 * MIB + 1)
    source.write_bytes(data)
    store.put_file("render-1", source)
    assert not source.exists()
    store.download("render-1", back)
    assert back.read_bytes() == data
    with pytest.raises(FileNotFoundError):
        store.download("render-2", tmp_path / "missing")


def test_jobs_read_objects_as_local_files_within_the_cache_bound(
    store: BlobStore, tmp_path: Path
) -> None:
    files = ObjectFiles(store, tmp_path / "cache", limit_bytes=5 * MIB)
    stored = {}
    for name in ("a", "b", "c"):
        source = tmp_path / name
        source.write_bytes(os.urandom(2 * MIB))
        stored[name] = source.read_bytes()
        store.put_file(name, source)
    for name in ("a", "b", "c", "a"):
        with files.reading(name) as path:
            assert path.read_bytes() == stored[name]
    cached = list((tmp_path / "cache" / "objects").glob("*"))
    assert sum(p.stat().st_size for p in cached) <= 5 * MIB  # none, for a store with paths
    with pytest.raises(FileNotFoundError), files.reading("nothing"):
        pass


def test_a_tool_opens_an_object_where_it_lies_or_by_a_url_serving_ranges(
    store: BlobStore, tmp_path: Path
) -> None:
    files = ObjectFiles(store, tmp_path / "cache", limit_bytes=0)
    source = tmp_path / "recording"
    data = os.urandom(MIB + 7)
    source.write_bytes(data)
    store.put_file("recording", source)
    with files.source("recording") as where:
        if isinstance(where, Path):  # the store's own file
            got = where.read_bytes()[1000:2000]
        else:  # a URL a tool reads with Range requests
            answer = httpx.get(where, headers={"Range": "bytes=1000-1999"})
            assert answer.status_code == 206, answer.text
            got = answer.content
    assert got == data[1000:2000]
    assert not list((tmp_path / "cache").rglob("*"))  # nothing copied
    with pytest.raises(FileNotFoundError), files.source("nothing"):
        pass


def test_a_stale_writer_cannot_spoil_what_another_writer_acknowledged(
    store: BlobStore, s3_server: S3Server | None
) -> None:
    """A node that stalled past its lease writes on while another node took the upload over
    (only a store shared by machines lets two writers open one upload): its late incomplete
    part, shorter than what the new writer acknowledged, leaves the acknowledged bytes whole."""
    length = 20 * MIB
    data = os.urandom(length)
    upload_id = str(uuid.uuid4())
    if isinstance(store, LocalBlobStore):  # one machine's store refuses the second writer
        first = store.open_upload(upload_id, 0, length=length, recoverable=False)
        try:
            with pytest.raises(UploadBusy):
                store.open_upload(upload_id, 0, length=length, recoverable=False)
        finally:
            first.close()
        return
    stale = store.open_upload(upload_id, 0, length=length, recoverable=False)
    stale.write([data[: 3 * MIB]])
    stale.persist()  # acknowledged at 3 MiB; then the node stalls
    _write(store, upload_id, data, 3 * MIB, 5 * MIB, length)  # another node: acknowledged 5 MiB
    stale.write([data[3 * MIB : 4 * MIB]])
    stale.persist()  # too late: its fencing check refuses the count, but the bytes went out
    stale.close()
    _write(store, upload_id, data, 5 * MIB, length, length)
    store.finish_upload(upload_id, upload_id)
    assert hashlib.sha256(_read(store, upload_id)).digest() == hashlib.sha256(data).digest()
