"""Blob store on a local directory: ``uploads/<id>`` while bytes arrive, ``objects/<key>`` after.

A writer holds an exclusive ``flock`` on its upload file, and leaves a marker beside it,
``uploads/<id>.unacked``, holding the kernel's boot id: if the process dies mid-PATCH, the
lock goes with it, the marker stays, and what it wrote is still in the page cache (a process's
death leaves the page cache alone; a reboot or power loss does not, and changes the boot id).
``recover_upload`` then makes those bytes durable and offers them to be counted.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from roughy.storage.base import StorageFull, UnacknowledgedBytes, UploadBusy

READ_PIECE = 1024 * 1024
# Start writeback every so many bytes, so the final fsync finds little left to flush
# (the kernel otherwise waits until a tenth of memory is dirty).
WRITEBACK_EVERY = 32 * 1024 * 1024

_SYNC_FILE_RANGE_WRITE = 2
_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024


def _load_sync_file_range() -> ctypes._NamedFuncPointer | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        fn = ctypes.CDLL(name, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_sync_file_range = _load_sync_file_range()

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
MARKER_SUFFIX = ".unacked"


def boot_id() -> str | None:
    """This boot of the kernel; None where there is no such file (then nothing is recovered)."""
    try:
        return BOOT_ID.read_text().strip() or None
    except OSError:
        return None


def _marked_this_boot(marker: Path) -> bool:
    try:
        text = marker.read_text().strip()
    except OSError:
        return False
    return bool(text) and text == boot_id()


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class LocalUploadWriter:
    def __init__(
        self, path: Path, marker: Path, offset: int, durable: bool, recoverable: bool = True
    ) -> None:
        self._new_file = not path.exists()
        self._dir = path.parent
        self._marker = marker
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o640)
        try:
            if not _lock(self._fd):
                raise UploadBusy(f"upload file {path} is open for writing elsewhere")
            size = os.fstat(self._fd).st_size
            if size < offset:
                raise RuntimeError(f"upload file {path} holds {size} bytes, offset is {offset}")
            if size > offset:
                if _marked_this_boot(marker):
                    raise UnacknowledgedBytes(f"upload file {path} holds {size} bytes")
                os.ftruncate(self._fd, offset)  # not counted, and not to be trusted
            os.lseek(self._fd, offset, os.SEEK_SET)
            boot = boot_id() if recoverable else None
            if boot is not None:
                marker.write_text(boot)
            else:
                _unlink(marker)
        except BaseException:
            os.close(self._fd)
            raise
        self._start = offset
        self._kept = offset  # where rollback returns: the start, or the last persist's end
        self._durable = durable
        self._written = 0
        self._unflushed_from = offset

    @property
    def written(self) -> int:
        return self._written

    def write(self, pieces: Sequence[bytes]) -> None:
        views = [memoryview(p) for p in pieces if p]
        try:
            while views:  # one writev for all pieces; a short write resumes where it stopped
                n = os.writev(self._fd, views[:_IOV_MAX])
                self._written += n
                while views and n >= len(views[0]):
                    n -= len(views.pop(0))
                if n:
                    views[0] = views[0][n:]
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise StorageFull(str(exc)) from exc
            raise
        if self._durable and _sync_file_range is not None:
            end = self._start + self._written
            if end - self._unflushed_from >= WRITEBACK_EVERY:
                _sync_file_range(
                    self._fd,
                    self._unflushed_from,
                    end - self._unflushed_from,
                    _SYNC_FILE_RANGE_WRITE,
                )
                self._unflushed_from = end

    def persist(self) -> None:
        if self._durable:
            os.fdatasync(self._fd)
            if self._new_file:
                _fsync_dir(self._dir)
                self._new_file = False
        self._kept = self._start + self._written

    def rollback(self) -> None:
        os.ftruncate(self._fd, self._kept)
        self._written = self._kept - self._start
        self._unflushed_from = self._kept
        os.lseek(self._fd, self._kept, os.SEEK_SET)

    def close(self) -> None:
        try:
            _unlink(self._marker)  # while the lock is held: no recovery can find it half-done
        finally:
            os.close(self._fd)


class LocalBlobStore:
    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.durable = durable
        self._uploads = root / "uploads"
        self._objects = root / "objects"
        self._uploads_prefix = f"{self._uploads}{os.sep}"  # unacknowledged() runs on every HEAD
        self._uploads.mkdir(parents=True, exist_ok=True)
        self._objects.mkdir(parents=True, exist_ok=True)

    def upload_path(self, upload_id: str) -> Path:
        return self._uploads / _safe(upload_id)

    def object_path(self, key: str) -> Path:
        return self._objects / _safe(key)

    def _marker(self, upload_id: str) -> Path:
        return self._uploads / (_safe(upload_id) + MARKER_SUFFIX)

    def open_upload(
        self, upload_id: str, offset: int, *, length: int = 0, recoverable: bool = True
    ) -> LocalUploadWriter:
        return LocalUploadWriter(
            self.upload_path(upload_id), self._marker(upload_id), offset, self.durable, recoverable
        )

    def discard_upload(self, upload_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.upload_path(upload_id).unlink()
        _unlink(self._marker(upload_id))

    def finish_upload(self, upload_id: str, key: str) -> None:
        os.replace(self.upload_path(upload_id), self.object_path(key))
        _unlink(self._marker(upload_id))
        if self.durable:
            _fsync_dir(self._objects)

    def unacknowledged(self, upload_id: str) -> bool:
        # One stat on a string path: a Path's joins cost more than the stat (every HEAD asks).
        return os.path.exists(self._uploads_prefix + _safe(upload_id) + MARKER_SUFFIX)

    def recover_upload(
        self, upload_id: str, offset: int, head: int, acknowledge: Callable[[int, bytes], bool]
    ) -> None:
        marker = self._marker(upload_id)
        try:
            fd = os.open(self.upload_path(upload_id), os.O_RDWR)
        except FileNotFoundError:
            _unlink(marker)
            return
        try:
            if not _lock(fd):
                return  # a live writer
            size = os.fstat(fd).st_size
            if _marked_this_boot(marker) and size > offset:
                if self.durable:
                    os.fsync(fd)
                    _fsync_dir(self._uploads)
                first = os.pread(fd, head, 0) if offset == 0 else b""
                if acknowledge(size, first):
                    # Kept until the next writer: one that read the offset before this count
                    # finds the marker and the bytes, and does not drop them.
                    return
            _unlink(marker)  # nothing (more) to count; the next writer drops what is past
        finally:
            os.close(fd)

    def put_file(self, key: str, path: Path) -> None:
        os.replace(path, self.object_path(key))
        if self.durable:
            _fsync_dir(self._objects)

    def download(self, key: str, path: Path) -> None:
        shutil.copyfile(self.object_path(key), path)

    def object_size(self, key: str) -> int:
        return self.object_path(key).stat().st_size

    def read_object(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with self.object_path(key).open("rb", buffering=0) as f:
            f.seek(start)
            remaining = end - start
            while remaining > 0:
                piece = f.read(min(READ_PIECE, remaining))
                if not piece:
                    return
                remaining -= len(piece)
                yield piece

    def delete_object(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.object_path(key).unlink()


def _safe(name: str) -> str:
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"unsafe blob name {name!r}")
    return name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
