"""The blob store protocol. The upload service speaks only to this, never to a backend.

Uploads are written through an :class:`UploadWriter` that starts at the acknowledged offset;
a finished upload becomes an object under a key. Optional abilities of a backend are separate
small protocols (:class:`LocalPaths`), checked with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable


class StorageFull(Exception):
    """The store has no room; what was written before it is intact."""


class UploadWriter(Protocol):
    @property
    def written(self) -> int:
        """Bytes written through this writer so far."""

    def write(self, pieces: Sequence[bytes]) -> None:
        """Append the pieces, in order, after what was written; blocking."""

    def persist(self) -> None:
        """Make everything written durable (when the store is configured to); it is kept from
        now on, whatever a later rollback does."""

    def rollback(self) -> None:
        """Forget what was written since the last persist (or since the writer opened)."""

    def close(self) -> None: ...


class BlobStore(Protocol):
    def open_upload(self, upload_id: str, offset: int) -> UploadWriter:
        """A writer at ``offset``; bytes stored past the acknowledged offset are dropped."""

    def discard_upload(self, upload_id: str) -> None:
        """Remove an upload's bytes; no error when there are none."""

    def finish_upload(self, upload_id: str, key: str) -> None:
        """The complete upload becomes the object ``key``."""

    def object_size(self, key: str) -> int:
        """Raises FileNotFoundError when there is no such object."""

    def read_object(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` up to, not including, ``end``, in large pieces."""

    def delete_object(self, key: str) -> None:
        """No error when there is no such object."""


@runtime_checkable
class LocalPaths(Protocol):
    """A store whose objects are files on this machine (media tools can open them directly)."""

    def object_path(self, key: str) -> Path: ...

    def upload_path(self, upload_id: str) -> Path:
        """Where an upload's bytes lie until ``finish_upload``: a tool may write a file there."""
