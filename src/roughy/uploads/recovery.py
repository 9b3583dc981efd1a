"""Bytes a PATCH wrote before its process was killed: made durable and counted, not sent again.

A SIGKILLed server acknowledged only its last checkpoint, yet everything it had written is still
in the upload's file (the page cache outlives the process). Before the next HEAD or PATCH of the
upload answers, the store makes those bytes durable and they are counted here under the same
rules as a PATCH's: a first chunk must still be media, and a PATCH that carried a checksum left
nothing to count (its writer was not recoverable). After a reboot nothing is trusted past the
acknowledged offset: the store tells the two apart by the kernel's boot id.
"""

from __future__ import annotations

import functools
import logging
from typing import cast

from roughy.accounts.models import Account
from roughy.assets.tasks import process_asset
from roughy.errors import ApiError
from roughy.media.sniff import SNIFF_BYTES, MediaFormat
from roughy.runtime import Runtime
from roughy.storage.base import Recovering
from roughy.uploads import service
from roughy.uploads.first_chunk import Refused, judge_head

log = logging.getLogger("roughy.uploads")


def pending(rt: Runtime, upload_id: str) -> bool:
    """Whether the upload may hold bytes to recover (a stat; cheap enough for every request)."""
    store = rt.store
    return _recovers(type(store)) and cast(Recovering, store).unacknowledged(upload_id)


@functools.cache
def _recovers(store_type: type) -> bool:
    """Whether a store of this type is :class:`Recovering` (asked once per type: a protocol's
    ``isinstance`` inspects every member each time, and every HEAD asks)."""
    return issubclass(store_type, Recovering)


def recover(rt: Runtime, account: Account, upload_id: str) -> None:
    """Count what a killed writer left in the upload, if anything; the caller holds the upload
    (no PATCH of this process writes it). Answers 404 as ``status`` does."""
    store = rt.store
    if not isinstance(store, Recovering):
        return
    with rt.db.session() as session:
        current = service.status(session, account, upload_id)
    if current.complete:
        return
    start = current.offset

    def acknowledge(end: int, first: bytes) -> bool:
        media: MediaFormat | None = None
        if start == 0:
            try:
                media = judge_head(first)
            except Refused:
                return False
        try:
            with rt.db.session() as session:
                done = service.commit(session, rt.settings, rt.store, upload_id, start, end, media)
                if done.finished:
                    rt.jobs.submit_on_commit(session, process_asset, upload_id)
        except ApiError:
            return False  # it moved on meanwhile
        log.info(
            "upload bytes recovered",
            extra={"upload_id": upload_id, "from": start, "to": end, "finished": done.finished},
        )
        return True

    store.recover_upload(upload_id, start, SNIFF_BYTES, acknowledge)
