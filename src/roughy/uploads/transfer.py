"""Streaming a PATCH body into an upload writer.

The event loop only gathers the body's pieces; writes (and checksum hashing) run in a worker
thread, one batch in flight while the next one gathers. Memory per upload is two batches and
does not depend on the chunk size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from roughy.storage.base import StorageFull, UploadWriter
from roughy.uploads.body import Body, Ending
from roughy.uploads.checksum import Digest, ExpectedChecksum

T = TypeVar("T")

# 1 MiB: eight concurrent uploads stay within the API's 100 MB; 2 MiB gained no throughput
# worth the 16 MiB more (docs/benchmarks.md).
BUFFER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Received:
    stored: int  # bytes written after the start offset (before any rollback)
    ending: Ending
    checksum_ok: bool | None  # None: no checksum asked for
    storage_full: bool


async def stream_into(
    body: Body,
    writer: UploadWriter,
    *,
    first: bytes,
    room: int,
    checksum: ExpectedChecksum | None,
    checkpoint: Callable[[int], None] | None = None,
    checkpoint_every: int = 0,
) -> Received:
    """Write ``first`` and the rest of the body, at most ``room`` bytes, through ``writer``.

    Pieces are gathered to a buffer's worth and handed to a worker thread as they are (the
    store writes them with one vectored write): one batch is written while the next gathers,
    and the event loop never copies a byte.

    Every ``checkpoint_every`` bytes, ``checkpoint(written)`` runs in the same worker thread
    (to make them durable and acknowledge them); never with a checksum, which judges the whole
    body.
    """
    batches = _Batches(writer, checksum.new() if checksum else None, checkpoint, checkpoint_every)
    parts: list[bytes] = []
    buffered, taken = 0, 0
    overflow = False
    piece: bytes | None = first
    while piece is not None and not batches.storage_full:
        if taken + len(piece) > room:
            piece, overflow = piece[: room - taken], True
        taken += len(piece)
        parts.append(piece)
        buffered += len(piece)
        if buffered >= BUFFER_BYTES:
            await batches.hand_off(parts)
            parts, buffered = [], 0
        if overflow:
            break
        piece = await body.next()
    await batches.hand_off(parts)
    await batches.settle()

    ending = Ending.OVERFLOW if overflow else body.ending or Ending.INTERRUPTED
    checksum_ok = None
    if checksum is not None and batches.digest is not None:
        checksum_ok = (
            ending is Ending.COMPLETE
            and not batches.storage_full
            and checksum.matches(batches.digest)
        )
    return Received(
        stored=writer.written,
        ending=ending,
        checksum_ok=checksum_ok,
        storage_full=batches.storage_full,
    )


class _Batches:
    """Batches written in a worker thread, one in flight at a time; a full store stops it."""

    def __init__(
        self,
        writer: UploadWriter,
        digest: Digest | None,
        checkpoint: Callable[[int], None] | None,
        checkpoint_every: int,
    ) -> None:
        self.writer = writer
        self.digest = digest
        self.checkpoint = checkpoint if digest is None else None
        self.checkpoint_every = checkpoint_every
        self.checkpointed = 0
        self.in_flight: asyncio.Future[None] | None = None
        self.storage_full = False

    def write(self, pieces: list[bytes]) -> None:
        if self.digest is not None:
            for piece in pieces:
                self.digest.update(piece)
        self.writer.write(pieces)
        written = self.writer.written
        due = self.checkpoint_every and written - self.checkpointed >= self.checkpoint_every
        if self.checkpoint is not None and due:
            self.checkpoint(written)
            self.checkpointed = written

    async def settle(self) -> None:
        if self.in_flight is not None:
            try:
                await uninterruptible(self.in_flight)
            except StorageFull:
                self.storage_full = True
            self.in_flight = None

    async def hand_off(self, pieces: list[bytes]) -> None:
        await self.settle()
        if pieces and not self.storage_full:
            loop = asyncio.get_running_loop()
            self.in_flight = loop.run_in_executor(None, self.write, pieces)


async def uninterruptible(work: Awaitable[T]) -> T:
    """Wait for a thread's work even if this task is cancelled meanwhile: its bytes must land."""
    future = asyncio.ensure_future(work)
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
    return future.result()
