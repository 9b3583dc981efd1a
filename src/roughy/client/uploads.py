"""TUS uploads that resume: across dropped connections within a run, and across runs (a
killed process) through a local store of upload URLs keyed by the file's fingerprint, as tus
clients' URL storage does.

Creation is ``POST /v1/uploads`` (``Upload-Metadata``: project_id, filename, filetype,
language); then PATCHes of at most ``chunk_size`` bytes, each streamed from the file in 1 MiB
blocks. After a dropped connection, ``409 upload_interrupted``, an offset mismatch, ``423`` or
a 5xx, the client waits (the server's ``Retry-After``, else a growing backoff), asks ``HEAD``
for the offset the server kept, and goes on from there.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import mimetypes
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from roughy.client import operations as ops
from roughy.client.errors import (
    ApiError,
    Conflict,
    NotFound,
    RoughyError,
    ServerError,
    TransportFailed,
    UploadLocked,
    check,
)
from roughy.client.flows import Backoff, get_asset
from roughy.client.models import Asset
from roughy.client.steps import Call, FileSlice, Flow, Pause, Progress

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"
DEFAULT_CHUNK = 64 * 1024 * 1024
SAMPLE = 64 * 1024
# Failures after which the upload goes on from the server's offset.
RESUMABLE = (TransportFailed, Conflict, UploadLocked, ServerError)


def default_state_dir() -> Path:
    """``ROUGHY_STATE_DIR``, else ``$XDG_STATE_HOME/roughy``, else ``~/.local/state/roughy``."""
    if explicit := os.environ.get("ROUGHY_STATE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "roughy"


def fingerprint(path: Path, endpoint: str, project_id: str) -> str:
    """Who the upload of this file is: the server and project it goes to, the file's size
    and modification time, and a hash of its first and last 64 KiB (never the whole file)."""
    stat = path.stat()
    digest = hashlib.sha256(
        f"{endpoint}\n{project_id}\n{stat.st_size}\n{stat.st_mtime_ns}\n".encode()
    )
    with path.open("rb") as f:
        digest.update(f.read(SAMPLE))
        if stat.st_size > SAMPLE:
            f.seek(max(SAMPLE, stat.st_size - SAMPLE))
            digest.update(f.read(SAMPLE))
    return digest.hexdigest()


@dataclass(frozen=True)
class Stored:
    upload_url: str
    asset_id: str
    path: str


class UploadStore:
    """Upload URLs by fingerprint, in one JSON file; processes that share it take turns."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_state_dir()
        self.file = self.directory / "uploads.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, str]]]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "uploads.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self._read()
            before = dict(entries)
            yield entries
            if entries != before:
                self._write(entries)

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.file.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".uploads.")
        with os.fdopen(fd, "w") as f:
            json.dump(entries, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.file)

    def get(self, key: str) -> Stored | None:
        with self._locked() as entries:
            entry = entries.get(key)
        try:
            return None if entry is None else Stored(**entry)
        except TypeError:
            return None

    def put(self, key: str, stored: Stored) -> None:
        with self._locked() as entries:
            entries[key] = asdict(stored)

    def remove(self, key: str) -> None:
        with self._locked() as entries:
            entries.pop(key, None)


def metadata(pairs: dict[str, str | None]) -> str:
    return ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items() if v is not None
    )


@dataclass
class _Upload:
    path: Path
    size: int
    url: str
    asset_id: str
    progress: Progress | None

    def report(self, offset: int) -> None:
        if self.progress is not None:
            self.progress(offset, self.size)


def upload(
    path: Path,
    project_id: str,
    *,
    base_url: str,
    store: UploadStore | None,
    language: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    max_retries: int = 8,
) -> Flow[Asset]:
    """Uploads ``path`` into a project (or resumes its upload) and returns its asset, as the
    last byte left it (``processing``, or already further)."""
    size = path.stat().st_size
    key = fingerprint(path, base_url, project_id) if store is not None else ""
    stored = store.get(key) if store is not None else None
    offset = None
    if stored is not None:
        offset = yield from _resumable_offset(stored.upload_url)
    if stored is None or offset is None:
        stored = yield from _create(path, size, project_id, language, base_url)
        offset = 0
        if store is not None:
            store.put(key, stored)
    state = _Upload(path, size, stored.upload_url, stored.asset_id, progress)
    state.report(offset)
    try:
        yield from _send_from(state, offset, chunk_size, max_retries)
    except _Gone as gone:
        if store is not None:
            store.remove(key)
        raise gone.cause from None
    if store is not None:
        store.remove(key)
    asset: Asset = yield from get_asset(state.asset_id)
    return asset


def _create(
    path: Path, size: int, project_id: str, language: str | None, base_url: str
) -> Flow[Stored]:
    filetype = mimetypes.guess_type(path.name)[0]
    pairs = {"project_id": project_id, "filename": path.name, "filetype": filetype}
    response = yield Call(
        ops.CREATE_UPLOAD,
        headers={
            **TUS,
            "Upload-Length": str(size),
            "Upload-Metadata": metadata({**pairs, "language": language}),
        },
    )
    location = check(response).headers.get("location")
    if not location:
        raise RoughyError("The server created an upload but sent no Location.")
    url = urljoin(base_url + "/", location)
    asset_id = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    return Stored(upload_url=url, asset_id=asset_id, path=str(path.resolve()))


def _resumable_offset(url: str) -> Flow[int | None]:
    """The offset a stored upload has reached; None when the server no longer has it
    (finished and gone, expired, cancelled)."""
    try:
        return (yield from _head(url))
    except NotFound:
        return None
    except ApiError as exc:
        if exc.status in (403, 410):
            return None
        raise


def _head(url: str) -> Flow[int]:
    response = yield Call(ops.HEAD_UPLOAD, url=url, headers=TUS)
    value = check(response).headers.get("upload-offset", "")
    if not value.isdigit():
        raise RoughyError("The server's HEAD answer carries no Upload-Offset.")
    return int(value)


def _send_from(state: _Upload, offset: int, chunk_size: int, max_retries: int) -> Flow[None]:
    failures = 0
    backoff = Backoff(first=0.5, longest=10.0)
    while offset < state.size:
        length = min(chunk_size, state.size - offset)
        body = FileSlice(state.path, offset, length, state.size, state.progress)
        headers = {**TUS, "Upload-Offset": str(offset), "Content-Type": OCTETS}
        try:
            response = yield Call(ops.PATCH_UPLOAD, url=state.url, headers=headers, body=body)
            reached = _offset_of(check(response))
        except RESUMABLE as exc:
            failures += 1
            if failures > max_retries:
                raise
            reached = yield from _recover(state, exc, backoff)
        if reached > offset:
            failures = 0
            backoff = Backoff(first=0.5, longest=10.0)
        offset = reached
        state.report(offset)


class _Gone(Exception):
    """The upload is no more (e.g. its first chunk was not media): ``cause`` says why."""

    def __init__(self, cause: RoughyError) -> None:
        self.cause = cause


def _recover(state: _Upload, cause: RoughyError, backoff: Backoff) -> Flow[int]:
    """After a failed PATCH: the offset the server kept. If the upload is gone (the server
    refused the first chunk's media and cancelled it), ``_Gone`` with the PATCH's error."""
    tries = 0
    while True:
        yield Pause(backoff.next(getattr(cause, "retry_after", None)))
        try:
            return (yield from _head(state.url))
        except NotFound:
            raise _Gone(cause) from None
        except (TransportFailed, ServerError, UploadLocked):
            tries += 1
            if tries > 8:
                raise cause from None


def _offset_of(response: httpx.Response) -> int:
    value = response.headers.get("upload-offset", "")
    if not value.isdigit():
        raise RoughyError("The server's PATCH answer carries no Upload-Offset.")
    return int(value)
