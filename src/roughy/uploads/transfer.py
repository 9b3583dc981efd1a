"""Streaming a PATCH body into the blob store.

The event loop only collects the body into large buffers; writes (and checksum hashing) run in
a worker thread, one buffer in flight while the next one fills. Memory per upload is two buffers
and does not depend on the chunk size. Whatever happens to the connection, the bytes received
are kept and acknowledged only once durable; with a checksum, an incomplete or mismatched chunk
is dropped whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.types import Receive

from roughy.accounts.models import Account
from roughy.assets.tasks import process_asset, purge_asset_bytes
from roughy.errors import ApiError
from roughy.media.sniff import MIN_HEAD_BYTES, SNIFF_BYTES, MediaFormat, sniff
from roughy.runtime import Runtime
from roughy.storage.base import StorageFull, UploadWriter
from roughy.uploads import service
from roughy.uploads.checksum import Digest, ExpectedChecksum
from roughy.uploads.locks import Hold
from roughy.uploads.protocol import offset_headers

log = logging.getLogger("roughy.uploads")
T = TypeVar("T")

BUFFER_BYTES = 4 * 1024 * 1024
DRAIN_LIMIT = (
    64 * 1024 * 1024
)  # read (and drop) this much of a refused body so the client sees the answer


class Ending(Enum):
    COMPLETE = "complete"  # the whole body arrived
    DISCONNECTED = "disconnected"  # the client went away
    INTERRUPTED = "interrupted"  # another request took over, or the connection went idle
    OVERFLOW = "overflow"  # more bytes than the upload has room for


class Body:
    """The request body as pieces, stoppable from outside while it waits for the network."""

    def __init__(self, receive: Receive, hold: Hold, idle_timeout: float) -> None:
        self._receive = receive
        self._hold = hold
        self._idle_timeout = idle_timeout
        self._task = asyncio.current_task()
        self._waiting = False
        self._stopping = hold.release_requested  # asked to let go before reading a byte
        self.last_data = time.monotonic()
        self.ending: Ending | None = None
        hold.on_release_request(self._interrupt)

    def _interrupt(self) -> None:
        if self.ending is None and not self._stopping:
            self._stopping = True
            if self._waiting and self._task is not None:
                self._task.cancel()

    async def watch(self) -> None:
        """Interrupt the reader when the connection has been silent too long."""
        while self.ending is None:
            await asyncio.sleep(min(1.0, self._idle_timeout / 4))
            if time.monotonic() - self.last_data > self._idle_timeout:
                log.info("upload connection idle; keeping what arrived")
                self._interrupt()
                return

    async def next(self) -> bytes | None:
        """The next piece, or None once the body has ended (see :attr:`ending`)."""
        while self.ending is None:
            if self._stopping:
                self._end(Ending.INTERRUPTED)
                break
            self._waiting = True
            try:
                message = await self._receive()
            except asyncio.CancelledError:
                if self._task is None:
                    raise
                self._task.uncancel()  # released, idle, or the server stops: keep what arrived
                self._end(Ending.INTERRUPTED)
                break
            finally:
                self._waiting = False
            if message["type"] == "http.disconnect":
                self._end(Ending.DISCONNECTED)
                break
            data: bytes = message.get("body", b"")
            if not message.get("more_body", False):
                self._end(Ending.COMPLETE)
            if data:
                self.last_data = time.monotonic()
                return data
        return None

    async def read_head(self, size: int) -> bytes:
        """At least ``size`` bytes, or what there is when the body ends first."""
        parts: list[bytes] = []
        have = 0
        while have < size and (piece := await self.next()) is not None:
            parts.append(piece)
            have += len(piece)
        return b"".join(parts)

    async def drain(self, limit: int) -> None:
        seen = 0
        while seen < limit and (piece := await self.next()) is not None:
            seen += len(piece)

    def _end(self, ending: Ending) -> None:
        self.ending = ending
        self._hold.saving.set()

    def close(self) -> None:
        self._hold.on_release_request(None)
        if self.ending is None:
            self._end(Ending.INTERRUPTED)


@dataclass(frozen=True)
class Received:
    stored: int  # bytes written after the start offset (before any rollback)
    ending: Ending
    checksum_ok: bool | None  # None: no checksum asked for
    storage_full: bool


class Refused(Exception):
    """The first chunk is not media we accept."""


def judge_head(head: bytes) -> MediaFormat:
    if len(head) < MIN_HEAD_BYTES:
        raise Refused(
            f"The first chunk must carry at least {MIN_HEAD_BYTES} bytes so the format can be "
            "checked; the upload was cancelled."
        )
    media = sniff(head[:SNIFF_BYTES])
    if media is None:
        raise Refused(
            "The first chunk is not a supported audio or video format; the upload was cancelled."
        )
    return media


async def stream_into(
    body: Body,
    writer: UploadWriter,
    *,
    first: bytes,
    room: int,
    checksum: ExpectedChecksum | None,
) -> Received:
    """Write ``first`` and the rest of the body, at most ``room`` bytes, through ``writer``.

    Two buffers take turns: one is written by a worker thread while the other fills.
    """
    loop = asyncio.get_running_loop()
    digest: Digest | None = checksum.new() if checksum else None
    buffers = (bytearray(BUFFER_BYTES), bytearray(BUFFER_BYTES))
    in_flight: asyncio.Future[None] | None = None
    storage_full = False

    def write(data: memoryview) -> None:
        if digest is not None:
            digest.update(data)
        writer.write(data)

    async def settle() -> None:
        nonlocal in_flight, storage_full
        if in_flight is not None:
            try:
                await _uninterruptible(in_flight)
            except StorageFull:
                storage_full = True
            in_flight = None

    async def hand_off(data: memoryview) -> None:
        nonlocal in_flight
        await settle()
        if data and not storage_full:
            in_flight = loop.run_in_executor(None, write, data)

    turn, filled, taken = 0, 0, 0
    overflow = False
    piece: bytes | None = first
    while piece is not None and not storage_full:
        view = memoryview(piece)
        if taken + len(view) > room:
            view, overflow = view[: room - taken], True
        taken += len(view)
        while view and not storage_full:
            n = min(len(view), BUFFER_BYTES - filled)
            buffers[turn][filled : filled + n] = view[:n]
            filled, view = filled + n, view[n:]
            if filled == BUFFER_BYTES:
                await hand_off(memoryview(buffers[turn]))
                turn, filled = 1 - turn, 0
        if overflow:
            break
        piece = await body.next()
    await hand_off(memoryview(buffers[turn])[:filled])
    await settle()

    ending = Ending.OVERFLOW if overflow else body.ending or Ending.INTERRUPTED
    checksum_ok = None
    if checksum is not None and digest is not None:
        checksum_ok = ending is Ending.COMPLETE and not storage_full and checksum.matches(digest)
    return Received(
        stored=writer.written, ending=ending, checksum_ok=checksum_ok, storage_full=storage_full
    )


async def _uninterruptible(work: Awaitable[T]) -> T:
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


@contextlib.asynccontextmanager
async def watching(body: Body) -> AsyncIterator[None]:
    watcher = asyncio.create_task(body.watch())
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        body.close()


@dataclass(frozen=True)
class Outcome:
    offset: int
    expires_at: datetime | None
    finished: bool


async def receive_chunk(
    rt: Runtime,
    account: Account,
    upload_id: str,
    *,
    client_offset: int,
    content_length: int | None,
    checksum: ExpectedChecksum | None,
    receive: Receive,
) -> Outcome:
    """One PATCH: check it, stream it, make it durable, acknowledge it."""
    settings = rt.settings
    async with rt.locks.hold(upload_id, settings.upload_lock_wait_seconds) as hold:
        current = await run_in_threadpool(
            _in_session, rt, service.begin_patch, account, upload_id, client_offset, content_length
        )
        body = Body(receive, hold, settings.upload_idle_timeout_seconds)
        async with watching(body):
            media = None
            first = b""
            if current.offset == 0:
                first = await body.read_head(SNIFF_BYTES)
                if body.ending is not Ending.COMPLETE and len(first) < MIN_HEAD_BYTES:
                    return Outcome(current.offset, current.expires_at, finished=False)
                try:
                    media = judge_head(first)
                except Refused as refused:
                    await run_in_threadpool(_in_session, rt, service.cancel, upload_id)
                    rt.jobs.submit(purge_asset_bytes, rt, upload_id)
                    await body.drain(DRAIN_LIMIT)
                    raise ApiError("conflict", str(refused)) from None

            writer = await run_in_threadpool(rt.store.open_upload, upload_id, current.offset)
            try:
                received = await stream_into(
                    body,
                    writer,
                    first=first,
                    room=current.length - current.offset,
                    checksum=checksum,
                )
            except BaseException:
                await run_in_threadpool(
                    writer.close
                )  # nothing acknowledged: the next PATCH truncates
                raise
            hold.saving.set()
            keep = received.checksum_ok is not False and received.stored > 0
            end = current.offset + received.stored if keep else None
            loop = asyncio.get_running_loop()
            done = await _uninterruptible(
                loop.run_in_executor(None, _save, rt, writer, upload_id, current.offset, end, media)
            )
        outcome = (
            Outcome(done.offset, done.expires_at, done.finished)
            if done is not None
            else Outcome(current.offset, current.expires_at, finished=False)
        )

    if outcome.finished:
        rt.jobs.submit(process_asset, rt, upload_id)
    headers = offset_headers(outcome.offset, outcome.expires_at)
    if received.storage_full:
        raise ApiError(
            "insufficient_storage",
            "The store is full; the bytes acknowledged in Upload-Offset are kept.",
            headers=headers,
        )
    if received.checksum_ok is False and received.ending is Ending.COMPLETE:
        raise ApiError(
            "checksum_mismatch",
            "Upload-Checksum did not match the chunk; the chunk was discarded.",
            headers=headers,
        )
    if received.ending is Ending.OVERFLOW:
        raise ApiError(
            "payload_too_large",
            "The chunk ran past the upload's length; the bytes up to the length were kept.",
            headers=headers,
        )
    return outcome


def _save(
    rt: Runtime,
    writer: UploadWriter,
    upload_id: str,
    start: int,
    end: int | None,
    media: MediaFormat | None,
) -> service.Committed | None:
    """Make bytes up to ``end`` durable and acknowledge them, or drop them all (``end`` None)."""
    try:
        if end is None:
            writer.rollback()
        else:
            writer.persist()
    finally:
        writer.close()
    if end is None:
        return None
    with rt.db.session() as session:
        return service.commit(session, rt.settings, rt.store, upload_id, start, end, media)


def _in_session(rt: Runtime, fn: Callable[..., T], *args: Any) -> T:
    with rt.db.session() as session:
        return fn(session, *args)
