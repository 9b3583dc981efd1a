"""The blob store protocol. The upload service speaks only to this, never to a backend.

Uploads are written through an :class:`UploadWriter` that starts at the acknowledged offset;
a finished upload becomes an object under a key. Optional abilities of a backend are separate
small protocols (:class:`LocalPaths`, :class:`Presigning`, :class:`UnfinishedUploads`,
:class:`Recovering`), checked with ``isinstance``. Jobs get local files for objects through
:mod:`roughy.storage.files`, whatever the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable


class StorageFull(Exception):
    """The store has no room; what was written before it is intact."""


class UploadBusy(Exception):
    """Another writer (of another process) has the upload open."""


class UnacknowledgedBytes(Exception):
    """The upload holds bytes past the offset a writer was asked to start at, which a writer
    killed mid-PATCH left and which may be counted yet: the caller's offset may be stale."""


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
    def open_upload(
        self, upload_id: str, offset: int, *, length: int, recoverable: bool = True
    ) -> UploadWriter:
        """A writer at ``offset`` of an upload of ``length`` bytes; bytes stored past the
        acknowledged offset are dropped.

        ``recoverable``: if the process dies while writing, what was written may be counted
        later (see :class:`Recovering`); False when the bytes must not be kept unless the whole
        request is judged (a checksum). Raises :class:`UploadBusy` and
        :class:`UnacknowledgedBytes`."""

    def discard_upload(self, upload_id: str) -> None:
        """Remove an upload's bytes; no error when there are none."""

    def finish_upload(self, upload_id: str, key: str) -> None:
        """The complete upload becomes the object ``key``."""

    def put_file(self, key: str, path: Path) -> None:
        """The local file (a tool's output) becomes the object ``key``; the file is gone after."""

    def download(self, key: str, path: Path) -> None:
        """A copy of the object into the local file ``path``; FileNotFoundError without it."""

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


@runtime_checkable
class Presigning(Protocol):
    """A store that can hand clients a URL of its own for an object (S3's presigned GET)."""

    presigned_downloads: bool  # whether downloads should redirect to it (a setting)

    def presigned_url(
        self,
        key: str,
        expires_in: int,
        *,
        disposition: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """A GET of the object, Range requests included, for ``expires_in`` seconds; the
        response's Content-Disposition and Content-Type set where given."""


@runtime_checkable
class UnfinishedUploads(Protocol):
    """A store whose uploads hold resources of their own until finished or discarded (S3's
    multipart uploads), which a crash between the two can leave without an owner."""

    def unfinished_uploads(self) -> list[tuple[str, datetime]]:
        """``(upload id, started)`` of each upload the store holds open."""


@runtime_checkable
class Recovering(Protocol):
    """A store whose upload files outlive the process that writes them: what a writer killed
    mid-PATCH had written (on a local disk: in the page cache, which a process's death leaves
    intact and a reboot does not) can be made durable and counted afterwards."""

    def unacknowledged(self, upload_id: str) -> bool:
        """Whether a writer may have left bytes to recover (cheap: asked on every HEAD)."""

    def recover_upload(
        self, upload_id: str, offset: int, head: int, acknowledge: Callable[[int, bytes], bool]
    ) -> None:
        """If a dead writer left bytes past ``offset`` that survived, make them durable and
        offer them: ``acknowledge(end, first)`` counts them (``first``: the upload's first
        ``head`` bytes when ``offset`` is 0, to judge) or declines (False). Nothing happens
        while a writer has the upload open."""
