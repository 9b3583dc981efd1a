"""Blob store on an S3-compatible bucket: a TUS upload is one multipart upload.

Under ``<prefix>``: ``objects/<key>`` are the objects (an upload's multipart upload targets
``objects/<upload id>`` from its first byte); ``uploads/<id>.info`` says which multipart upload
an upload writes and its part size; ``uploads/<id>.part-<n>.<k>`` holds the first ``k`` bytes
of part ``n`` while the part is not whole (tusd's "incomplete part"), so that whichever node
takes the next PATCH finds them in the store: it reads the one named after its acknowledged
offset (a GET of a known key, consistent right after the write). A writer that dies after
sending a whole part but before its bytes were acknowledged leaves the acknowledged offset
inside that part: its incomplete-part objects are therefore kept until an acknowledged offset
has passed the part. Every part but the last has the size
:func:`roughy.storage.s3parts.part_size` gives; part ``n`` always holds the same bytes, so a
part sent again (after a writer was cut off before its bytes were acknowledged) replaces the
stale one.

A writer that stalled past its lease while another node took the upload over (see
``roughy.uploads.locks``) may still send parts and incomplete parts before it learns so, at its
next acknowledgement, where the fencing check stops it. That is the only check it needs: what
it sends cannot spoil the store. A part holds the same bytes whoever sends it (TUS offsets fix
them), and an incomplete part is named by its length, so a stale writer's shorter one never
replaces the bytes another writer's acknowledged offset stands on.

The store keeps no state in memory between requests: the database's offset says what is
acknowledged, and the store's objects hold at least that much.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from roughy.storage.s3parts import part_number, part_size

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

READ_PIECE = 1024 * 1024
PARTS_IN_FLIGHT = 4  # parts one writer sends at once (boto3's upload_file: 10)


class StoredBytesMissing(RuntimeError):
    """The store holds fewer bytes of an upload than its acknowledged offset."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending in "/"

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        prefix = parts.path.strip("/")
        return cls(parts.netloc, f"{prefix}/" if prefix else "")


@dataclass(frozen=True)
class _Info:
    multipart_id: str
    part_size: int
    length: int


def _missing(exc: Exception) -> bool:
    response: Any = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NoSuchUpload", "NotFound"}


class S3UploadWriter:
    """Appends to an upload: whole parts go to the store as they fill, the rest on persist.

    Up to ``PARTS_IN_FLIGHT`` parts are being sent at once, on the store's threads, while the
    request goes on reading: a writer holds at most that many parts and the one filling, and a
    slow store slows the request down. ``persist`` waits for every part sent: nothing is
    acknowledged before its bytes are in the store."""

    def __init__(self, store: S3BlobStore, upload_id: str, offset: int, info: _Info) -> None:
        self._store, self._id, self._info = store, upload_id, info
        self._start = offset
        self._written = 0
        self._sending: deque[Future[None]] = deque()
        self._tails = store._tails(upload_id)  # (part number, length) of incomplete parts
        self._load(offset)
        self._drop_tails_before(offset)

    def _load(self, offset: int) -> None:
        """The state at ``offset`` (acknowledged, or persisted by this writer): the bytes of
        the part it falls in, from its incomplete-part object."""
        size = self._info.part_size
        self._part_start = offset - offset % size
        number = part_number(offset, size)
        self._buffer = bytearray(self._store._tail(self._id, number, offset % size, self._tails))
        self._kept = offset

    def _drop_tails_before(self, acknowledged: int) -> None:
        """Incomplete-part objects that no writer will read again: those of parts wholly before
        an acknowledged offset, and those of its part shorter than it."""
        size = self._info.part_size
        number, within = part_number(acknowledged, size), acknowledged % size
        spent = {(n, k) for n, k in self._tails if n < number or (n == number and k < within)}
        if spent:
            self._store._delete(*(self._store._tail_key(self._id, n, k) for n, k in spent))
            self._tails -= spent

    @property
    def written(self) -> int:
        return self._written

    @property
    def _position(self) -> int:
        return self._part_start + len(self._buffer)

    def write(self, pieces: Sequence[bytes]) -> None:
        size, length = self._info.part_size, self._info.length
        for piece in pieces:
            self._buffer += piece
            self._written += len(piece)
        while len(self._buffer) >= size or (self._buffer and self._position == length):
            with memoryview(self._buffer) as view:
                body = bytes(view[:size])
            self._send(part_number(self._part_start, size), body)
            del self._buffer[:size]
            self._part_start += len(body)

    def _send(self, number: int, body: bytes) -> None:
        while len(self._sending) >= PARTS_IN_FLIGHT:
            self._sending.popleft().result()  # the oldest part's failure, if it failed
        store = self._store
        self._sending.append(
            store._senders.submit(store._upload_part, self._id, self._info, number, body)
        )

    def _sent(self) -> None:
        """Every part handed over has been sent; raises the first failure."""
        failures = []
        while self._sending:
            try:
                self._sending.popleft().result()
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def persist(self) -> None:
        self._sent()
        if self._buffer:
            number = part_number(self._part_start, self._info.part_size)
            self._store._put_tail(self._id, number, bytes(self._buffer))
            self._tails.add((number, len(self._buffer)))
        # What the last persist kept is acknowledged by now (a checkpoint counts its bytes
        # before the writer goes on).
        self._drop_tails_before(self._kept)
        self._kept = self._position

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self._sent()  # unacknowledged either way; a part sent again replaces it
        self._load(self._kept)
        self._written = self._kept - self._start

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._sent()
        self._buffer = bytearray()


class S3BlobStore:
    def __init__(
        self,
        client: S3Client,
        location: S3Location,
        *,
        max_parts: int = 10_000,
        presigned_downloads: bool = False,
    ) -> None:
        self.client = client
        self.bucket = location.bucket
        self.prefix = location.prefix
        self.max_parts = max_parts
        self.presigned_downloads = presigned_downloads
        self._senders = ThreadPoolExecutor(32, thread_name_prefix="s3-parts")

    # keys
    def _object(self, key: str) -> str:
        return f"{self.prefix}objects/{_safe(key)}"

    def _info_key(self, upload_id: str) -> str:
        return f"{self.prefix}uploads/{_safe(upload_id)}.info"

    def _tail_key(self, upload_id: str, number: int, length: int) -> str:
        return f"{self.prefix}uploads/{_safe(upload_id)}.part-{number}.{length}"

    def _tails(self, upload_id: str) -> set[tuple[int, int]]:
        """``(part number, length)`` of each incomplete-part object of the upload."""
        base = f"{self.prefix}uploads/{_safe(upload_id)}.part-"
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base
        )
        found = set()
        for page in pages:
            for o in page.get("Contents", []):
                number, _, length = o["Key"][len(base) :].partition(".")
                found.add((int(number), int(length)))
        return found

    # the upload's state in the store
    def _read_info(self, upload_id: str) -> _Info | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._info_key(upload_id))
        except self.client.exceptions.NoSuchKey:
            return None
        data = json.loads(body["Body"].read())
        return _Info(data["multipart_id"], data["part_size"], data["length"])

    def _begin(self, upload_id: str, length: int) -> _Info:
        created = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self._object(upload_id)
        )
        info = _Info(created["UploadId"], part_size(length, self.max_parts), length)
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._info_key(upload_id),
            Body=json.dumps(info.__dict__).encode(),
            ContentType="application/json",
        )
        return info

    def _tail(self, upload_id: str, number: int, size: int, listed: set[tuple[int, int]]) -> bytes:
        """The first ``size`` bytes of part ``number``: from the incomplete-part object of that
        length (what acknowledged them wrote it), else from a longer one ``listed``."""
        if size == 0:
            return b""
        longer = sorted(k for n, k in listed if n == number and k > size)
        for length in [size, *longer]:
            try:
                got = self.client.get_object(
                    Bucket=self.bucket,
                    Key=self._tail_key(upload_id, number, length),
                    Range=f"bytes=0-{size - 1}",
                )
                break
            except Exception as exc:
                if not _missing(exc):
                    raise
        else:
            raise StoredBytesMissing(f"upload {upload_id}: part {number} is gone")
        data = got["Body"].read()
        if len(data) != size:
            raise StoredBytesMissing(f"upload {upload_id}: {len(data)} of {size} bytes stored")
        return data

    def _put_tail(self, upload_id: str, number: int, data: bytes) -> None:
        key = self._tail_key(upload_id, number, len(data))
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def _forget(self, upload_id: str) -> None:
        """The upload's own objects (not its multipart upload or its object)."""
        tails = [self._tail_key(upload_id, n, k) for n, k in self._tails(upload_id)]
        self._delete(*tails, self._info_key(upload_id))

    def _upload_part(self, upload_id: str, info: _Info, number: int, data: bytes) -> None:
        self.client.upload_part(
            Bucket=self.bucket,
            Key=self._object(upload_id),
            UploadId=info.multipart_id,
            PartNumber=number,
            Body=data,
        )

    def _parts(self, upload_id: str, info: _Info) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        marker = 0
        while True:
            page = self.client.list_parts(
                Bucket=self.bucket,
                Key=self._object(upload_id),
                UploadId=info.multipart_id,
                PartNumberMarker=marker,
            )
            parts += [
                {"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in page.get("Parts", [])
            ]
            if not page.get("IsTruncated"):
                return parts
            marker = page["NextPartNumberMarker"]

    # BlobStore
    def open_upload(
        self, upload_id: str, offset: int, *, length: int, recoverable: bool = True
    ) -> S3UploadWriter:
        info = self._read_info(upload_id)
        if info is None:
            if offset != 0:
                raise StoredBytesMissing(f"upload {upload_id} has no multipart upload")
            info = self._begin(upload_id, length)
        return S3UploadWriter(self, upload_id, offset, info)

    def discard_upload(self, upload_id: str) -> None:
        info = self._read_info(upload_id)
        ids = {info.multipart_id} if info else set()
        ids |= {mp_id for key, mp_id, _ in self._multipart_uploads(self._object(upload_id))
                if key == self._object(upload_id)}  # fmt: skip
        for multipart_id in ids:
            with contextlib.suppress(self.client.exceptions.NoSuchUpload):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self._object(upload_id), UploadId=multipart_id
                )
        self._forget(upload_id)

    def finish_upload(self, upload_id: str, key: str) -> None:
        info = self._read_info(upload_id)
        if info is None:
            raise StoredBytesMissing(f"upload {upload_id} has no multipart upload")
        target = self._object(upload_id)
        if info.length == 0:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=target, UploadId=info.multipart_id
            )
            self.client.put_object(Bucket=self.bucket, Key=target, Body=b"")
        else:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=target,
                UploadId=info.multipart_id,
                MultipartUpload={"Parts": self._parts(upload_id, info)},  # type: ignore[typeddict-item]
            )
        if key != upload_id:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=self._object(key),
                CopySource={"Bucket": self.bucket, "Key": target},
            )
            self.delete_object(upload_id)
        self._forget(upload_id)

    def put_file(self, key: str, path: Path) -> None:
        from boto3.s3.transfer import TransferConfig

        self.client.upload_file(
            str(path),
            self.bucket,
            self._object(key),
            Config=TransferConfig(
                multipart_chunksize=part_size(path.stat().st_size, self.max_parts)
            ),
        )
        path.unlink()

    def object_size(self, key: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        return int(head["ContentLength"])

    def read_object(self, key: str, start: int, end: int) -> Iterator[bytes]:
        if end <= start:
            return
        try:
            got = self.client.get_object(
                Bucket=self.bucket, Key=self._object(key), Range=f"bytes={start}-{end - 1}"
            )
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        body = got["Body"]
        try:
            yield from body.iter_chunks(READ_PIECE)
        finally:
            body.close()

    def download(self, key: str, path: Path) -> None:
        """The object into a local file (ranged GETs on a few threads)."""
        try:
            self.client.download_file(self.bucket, self._object(key), str(path))
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from exc
            raise

    def delete_object(self, key: str) -> None:
        self._delete(self._object(key))

    # abilities beyond BlobStore
    def presigned_url(
        self,
        key: str,
        expires_in: int,
        *,
        disposition: str | None = None,
        content_type: str | None = None,
    ) -> str:
        params = {"Bucket": self.bucket, "Key": self._object(key)}
        if disposition is not None:
            params["ResponseContentDisposition"] = disposition
        if content_type is not None:
            params["ResponseContentType"] = content_type
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def unfinished_uploads(self) -> list[tuple[str, datetime]]:
        """``(upload id, initiated)`` of every multipart upload of an upload in the store."""
        base = f"{self.prefix}objects/"
        return [
            (key[len(base) :], initiated) for key, _, initiated in self._multipart_uploads(base)
        ]

    def _multipart_uploads(self, prefix: str) -> Iterator[tuple[str, str, datetime]]:
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for up in page.get("Uploads", []):
                yield up["Key"], up["UploadId"], up["Initiated"]

    def _delete(self, *keys: str) -> None:
        for key in keys:
            self.client.delete_object(Bucket=self.bucket, Key=key)


def _safe(name: str) -> str:
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"unsafe blob name {name!r}")
    return name


def client_from(
    endpoint_url: str | None,
    region: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> S3Client:
    """A boto3 S3 client; what is not given comes from the standard AWS variables and files."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    client: S3Client = session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region or os.environ.get("AWS_REGION") or session.region_name or "us-east-1",
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            max_pool_connections=32,
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )
    return client
