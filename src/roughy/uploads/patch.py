"""One PATCH, start to end: check it, judge its first chunk, stream it, save it, acknowledge it.

Whatever happens to the connection, the bytes received are kept and acknowledged only once
durable; with a checksum, an incomplete or mismatched chunk is dropped whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.types import Receive

from roughy.accounts.models import Account
from roughy.assets.tasks import process_asset, purge_asset_bytes
from roughy.errors import ApiError
from roughy.media.sniff import MIN_HEAD_BYTES, SNIFF_BYTES, MediaFormat
from roughy.runtime import Runtime
from roughy.storage.base import UnacknowledgedBytes, UploadBusy, UploadWriter
from roughy.uploads import recovery, service
from roughy.uploads.body import Body, Cause, Ending, watching
from roughy.uploads.checksum import ExpectedChecksum
from roughy.uploads.first_chunk import Refused, judge_head
from roughy.uploads.locks import Hold
from roughy.uploads.protocol import offset_headers
from roughy.uploads.transfer import Received, stream_into, uninterruptible

T = TypeVar("T")

# Read (and drop) this much of a refused body so the client gets to see the answer.
DRAIN_LIMIT = 64 * 1024 * 1024


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
        if recovery.pending(rt, upload_id):  # a killed writer's bytes count before the offset
            await run_in_threadpool(recovery.recover, rt, account, upload_id)
        current = await run_in_threadpool(
            _in_session, rt, service.begin_patch, account, upload_id, client_offset, content_length
        )
        body = Body(receive, hold, settings.upload_idle_timeout_seconds)
        async with watching(body):
            received, outcome = await _receive(rt, body, upload_id, current, checksum, hold)
    _refuse_unless_whole(rt, body, received, outcome)
    return outcome


async def _receive(
    rt: Runtime,
    body: Body,
    upload_id: str,
    current: service.UploadStatus,
    checksum: ExpectedChecksum | None,
    hold: Hold,
) -> tuple[Received | None, Outcome]:
    """The body into the upload, saved and acknowledged; None when it ended before a first
    chunk could be judged (nothing stored)."""
    media = None
    first = b""
    if current.offset == 0:
        first = await body.read_head(SNIFF_BYTES)
        if body.ending is not Ending.COMPLETE and len(first) < MIN_HEAD_BYTES:
            return None, Outcome(current.offset, current.expires_at, finished=False)
        try:
            media = judge_head(first)
        except Refused as refused:
            await run_in_threadpool(_refuse, rt, upload_id)
            await body.drain(DRAIN_LIMIT)
            raise ApiError("conflict", str(refused)) from None

    writer = await run_in_threadpool(
        _open, rt, upload_id, current.offset, current.length, checksum is None
    )
    progress = Progress(rt, writer, upload_id, current, media, hold.fence)
    try:
        received = await stream_into(
            body,
            writer,
            first=first,
            room=current.length - current.offset,
            checksum=checksum,
            checkpoint=progress.checkpoint,
            checkpoint_every=rt.settings.upload_checkpoint_bytes,
        )
    except BaseException:
        await run_in_threadpool(writer.close)  # nothing acknowledged: the next PATCH truncates
        raise
    body.saving()
    keep = received.checksum_ok is not False and received.stored > 0
    end = current.offset + received.stored if keep else None
    loop = asyncio.get_running_loop()
    done = await uninterruptible(loop.run_in_executor(None, progress.save, end))
    if done is None:
        return received, Outcome(progress.start, progress.expires_at, finished=False)
    return received, Outcome(done.offset, done.expires_at, done.finished)


def _open(rt: Runtime, upload_id: str, offset: int, length: int, recoverable: bool) -> UploadWriter:
    try:
        return rt.store.open_upload(upload_id, offset, length=length, recoverable=recoverable)
    except UploadBusy:
        raise ApiError(
            "upload_locked",
            "Another request is writing this upload right now; retry shortly.",
            headers={"Retry-After": "1"},
        ) from None
    except UnacknowledgedBytes:
        raise ApiError(
            "conflict",
            f"The upload holds more than Upload-Offset {offset} by now; HEAD it and resume.",
        ) from None


def _refuse_unless_whole(
    rt: Runtime, body: Body, received: Received | None, outcome: Outcome
) -> None:
    """The error a PATCH answers with when it did not store its whole body as sent."""
    headers = offset_headers(outcome.offset, outcome.expires_at)
    if received is not None and (error := _not_stored(received, headers)) is not None:
        raise error
    if body.cut_short and body.cause is not None:
        # The rest of the body is not read: the connection closes, so the client stops sending.
        raise ApiError(
            "upload_interrupted",
            _INTERRUPTED[body.cause].format(seconds=rt.settings.upload_idle_timeout_seconds),
            headers={**headers, "Connection": "close"},
        )


def _not_stored(received: Received, headers: dict[str, str]) -> ApiError | None:
    if received.storage_full:
        return ApiError(
            "insufficient_storage",
            "The store is full; the bytes acknowledged in Upload-Offset are kept.",
            headers=headers,
        )
    if received.checksum_ok is False and received.ending is Ending.COMPLETE:
        return ApiError(
            "checksum_mismatch",
            "Upload-Checksum did not match the chunk; the chunk was discarded.",
            headers=headers,
        )
    if received.ending is Ending.OVERFLOW:
        return ApiError(
            "payload_too_large",
            "The chunk ran past the upload's length; the bytes up to the length were kept.",
            headers=headers,
        )
    return None


_INTERRUPTED = {
    Cause.STOPPING: "The server is stopping; the bytes up to Upload-Offset are kept.",
    Cause.TAKEN_OVER: "Another request on this upload took it over, so this one stopped; the "
    "bytes up to Upload-Offset are kept. HEAD the upload before sending more.",
    Cause.IDLE: "The connection sent nothing for {seconds:g} seconds, so the request was "
    "stopped; the bytes up to Upload-Offset are kept. HEAD the upload and resume.",
}


class Progress:
    """What of one PATCH is acknowledged: checkpoints on the way, and the save at its end."""

    def __init__(
        self,
        rt: Runtime,
        writer: UploadWriter,
        upload_id: str,
        current: service.UploadStatus,
        media: MediaFormat | None,
        fence: Callable[[], None] = lambda: None,
    ) -> None:
        self.rt, self.writer, self.upload_id, self.media = rt, writer, upload_id, media
        self.fence = fence  # raises unless this request still holds the upload (across nodes)
        self.origin = self.start = current.offset
        self.length = current.length
        self.expires_at: datetime | None = current.expires_at

    def checkpoint(self, written: int) -> None:
        """Make the bytes so far durable and acknowledge them (never the last byte)."""
        end = self.origin + written
        if end >= self.length or end <= self.start:
            return
        self.writer.persist()
        done = self._commit(end)
        self.start, self.expires_at, self.media = done.offset, done.expires_at, None

    def save(self, end: int | None) -> service.Committed | None:
        """Make bytes up to ``end`` durable and acknowledge them, or drop what is not yet
        acknowledged (``end`` None)."""
        try:
            if end is None:
                self.writer.rollback()
            else:
                self.writer.persist()
        finally:
            self.writer.close()
        if end is None or end <= self.start:
            return None
        return self._commit(end)

    def _commit(self, end: int) -> service.Committed:
        rt = self.rt
        self.fence()
        with rt.db.session() as session:
            done = service.commit(
                session, rt.settings, rt.store, self.upload_id, self.start, end, self.media
            )
            if done.finished:
                rt.jobs.submit_on_commit(session, process_asset, self.upload_id)
            return done


def _refuse(rt: Runtime, upload_id: str) -> None:
    """Not media: the upload and its asset go, and whatever bytes it left."""
    with rt.db.session() as session:
        service.cancel(session, upload_id)
        rt.jobs.submit_on_commit(session, purge_asset_bytes, upload_id)


def _in_session(rt: Runtime, fn: Callable[..., T], *args: Any) -> T:
    with rt.db.session() as session:
        return fn(session, *args)
