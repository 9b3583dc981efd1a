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
from roughy.media.sniff import MIN_HEAD_BYTES, SNIFF_BYTES, MediaFormat, sniff
from roughy.runtime import Runtime
from roughy.storage.base import UploadWriter
from roughy.uploads import service
from roughy.uploads.body import Body, Ending, watching
from roughy.uploads.checksum import ExpectedChecksum
from roughy.uploads.protocol import offset_headers
from roughy.uploads.transfer import stream_into, uninterruptible

T = TypeVar("T")

# Read (and drop) this much of a refused body so the client gets to see the answer.
DRAIN_LIMIT = 64 * 1024 * 1024


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
            done = await uninterruptible(
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
