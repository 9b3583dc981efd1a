"""Local files and URLs for objects: how a job hands an object to a tool (PyAV, ffmpeg, the
recogniser), and how a file a tool wrote becomes an object, whatever the store.

Every tool the jobs run on a stored recording (probing and render planning with PyAV, decoding
for the recogniser and the cut's listening with PyAV, the render's ffmpeg) reads through FFmpeg,
which opens an HTTP(S) URL with Range requests and seeks with new ones. :meth:`ObjectFiles.source`
therefore gives such a tool the store's own file, or a presigned URL of the object (S3): a probe
reads the header and a packet near the end, not the recording, and nothing waits for a copy.

Only a store that has neither (no such store ships today) falls back to :meth:`ObjectFiles.reading`,
a real file: the object copied into a cache in the data directory, bounded in size and cleaned
as it goes: the least recently used files go first, never one a job is reading (each reader
holds a shared ``flock`` on its file; eviction takes an exclusive one or leaves the file).
Objects never change once stored, so a cached copy is good until evicted; processes on one
machine share the cache. A tool's output is always a real local file (ffmpeg's MP4 muxer seeks
back to write its index), published to the store once whole (:meth:`ObjectFiles.publish`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from roughy.storage.base import BlobStore, LocalPaths, Presigning

# How long a tool's URL stays valid: longer than any job reads its source (a render of hours).
TOOL_URL_SECONDS = 24 * 3600


class ObjectFiles:
    def __init__(self, store: BlobStore, cache_dir: Path, limit_bytes: int) -> None:
        self.store = store
        self.limit_bytes = limit_bytes
        self._cache = cache_dir / "objects"
        self._scratch = cache_dir / "scratch"

    @contextlib.contextmanager
    def source(self, key: str) -> Iterator[Path | str]:
        """What a tool that reads through FFmpeg opens for the object ``key`` while the block
        runs: the store's own file, a presigned URL (read with Range requests), or else a
        cached copy (:meth:`reading`).

        Raises FileNotFoundError when the store has no such object."""
        store = self.store
        if isinstance(store, LocalPaths) or not isinstance(store, Presigning):
            with self.reading(key) as path:
                yield path
            return
        store.object_size(key)  # FileNotFoundError before any tool runs
        yield store.presigned_url(key, TOOL_URL_SECONDS)

    @contextlib.contextmanager
    def reading(self, key: str) -> Iterator[Path]:
        """A local file holding the object ``key`` while the block runs.

        Raises FileNotFoundError when the store has no such object."""
        store = self.store
        if isinstance(store, LocalPaths):
            path = store.object_path(key)
            if not path.exists():
                raise FileNotFoundError(f"no stored object {key}")
            yield path
            return
        path = self._cache / key
        fd = self._open_cached(key, path)
        try:
            yield path
        finally:
            os.close(fd)  # drops the shared lock
            self.trim()

    def _open_cached(self, key: str, path: Path) -> int:
        """The cached copy, opened and share-locked (fetched first when it is not there)."""
        while True:
            with contextlib.suppress(FileNotFoundError):
                fd = os.open(path, os.O_RDONLY)
                fcntl.flock(fd, fcntl.LOCK_SH)
                if os.fstat(fd).st_nlink > 0:  # not evicted between the open and the lock
                    os.utime(fd)  # recently used
                    return fd
                os.close(fd)
            self._fetch(key, path)

    def _fetch(self, key: str, path: Path) -> None:
        self._cache.mkdir(parents=True, exist_ok=True)
        self.trim(room_for=self.store.object_size(key))
        partial = self._cache / f".{key}.{uuid.uuid4().hex}"
        try:
            self.store.download(key, partial)
            os.replace(partial, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()

    def trim(self, room_for: int = 0) -> None:
        """Remove the least recently used copies no job is reading until the cache holds at
        most its bound less ``room_for`` (an object larger than the bound is still fetched: it
        is then alone in the cache)."""
        if not self._cache.is_dir():
            return
        entries = []
        for entry in os.scandir(self._cache):
            if entry.name.startswith("."):
                continue  # a copy being fetched
            with contextlib.suppress(FileNotFoundError):
                stat = entry.stat()
                entries.append((stat.st_mtime, stat.st_size, Path(entry.path)))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total + room_for <= self.limit_bytes:
                return
            if _evict(path):
                total -= size

    def output(self, key: str) -> Path:
        """Where a tool writes the file that becomes the object ``key`` (see :meth:`publish`)."""
        store = self.store
        if isinstance(store, LocalPaths):
            return store.upload_path(key)
        self._scratch.mkdir(parents=True, exist_ok=True)
        return self._scratch / key

    def publish(self, key: str) -> None:
        """The file at ``output(key)`` becomes the object ``key``."""
        self.store.put_file(key, self.output(key))

    def discard_output(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.output(key).unlink()


def _evict(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a job is reading it
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)
