"""Housekeeping, run by every worker on a timer: each step is safe to run on several at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from roughy.assets import service as assets
from roughy.assets.tasks import purge_asset_bytes
from roughy.db import utcnow
from roughy.queue import claims
from roughy.storage.base import UnfinishedUploads
from roughy.uploads import service as uploads
from roughy.uploads.models import Upload

if TYPE_CHECKING:
    from roughy.runtime import Runtime

log = logging.getLogger("roughy.housekeeping")


def _remove_all(
    rt: Runtime,
    find: Callable[[Session], list[str]],
    remove: Callable[[Session, str], bool],
    what: str,
) -> int:
    """Remove what ``find`` lists, batch by batch; each removal owes the purge of its bytes."""
    removed = 0
    while batch := _in_session(rt, find):
        for entity_id in batch:
            with rt.db.session() as session:
                gone = remove(session, entity_id)
                if gone:
                    rt.jobs.submit_on_commit(session, purge_asset_bytes, entity_id)
            if gone:
                removed += 1
                log.info(what, extra={"asset_id": entity_id})
    return removed


def _in_session(rt: Runtime, find: Callable[[Session], list[str]]) -> list[str]:
    with rt.db.session() as session:
        return find(session)


def reap_expired_uploads(rt: Runtime) -> int:
    """Uploads idle past their expiry are removed with their asset and bytes."""
    return _remove_all(rt, uploads.expired, uploads.reap, "reaped expired upload")


def purge_unpaid_assets(rt: Runtime) -> int:
    """pending_payment assets unpaid past the retention are removed with their bytes."""
    cutoff = utcnow() - timedelta(seconds=rt.settings.unpaid_retention_seconds)
    return _remove_all(
        rt,
        lambda session: assets.unpaid_since(session, cutoff),
        lambda session, asset_id: assets.purge_unpaid(session, asset_id, cutoff),
        "purged unpaid asset",
    )


def requeue_lapsed_jobs(rt: Runtime) -> int:
    """Jobs owed but not done in time (a worker died, a queued job was lost) are queued again."""
    with rt.db.session() as session:
        claims.lapse_dead_holders(session)
    with rt.db.session() as session:
        due = claims.lapsed(session)
    requeued = 0
    for name, key in due:
        fn = rt.jobs.named(name)
        if fn is None:
            continue
        with rt.db.session() as session:
            mine = claims.requeue(session, name, key, rt.jobs.patience)
        if mine:
            rt.jobs.submit(fn, key)
            requeued += 1
            log.warning("job queued again", extra={"job": name, "key": key})
    return requeued


def abort_orphan_multipart_uploads(rt: Runtime) -> int:
    """Uploads the store holds open (S3 multipart uploads) that no unfinished upload owns (a
    crash between the store and the database) are discarded with their objects. One younger
    than ``s3_orphan_grace_seconds`` is left: its upload's row may be being written."""
    store = rt.store
    if not isinstance(store, UnfinishedUploads):
        return 0
    cutoff = utcnow() - timedelta(seconds=rt.settings.s3_orphan_grace_seconds)
    aborted = 0
    for upload_id, started in store.unfinished_uploads():
        if started > cutoff:
            continue
        with rt.db.session() as session:
            upload = session.get(Upload, upload_id)
            owned = upload is not None and upload.completed_at is None
        if not owned:
            store.discard_upload(upload_id)
            aborted += 1
            log.warning("orphan multipart upload aborted", extra={"upload_id": upload_id})
    return aborted


def lifecycle(rt: Runtime) -> None:
    """The periodic housekeeping; each step is safe to run on several workers at once."""
    reap_expired_uploads(rt)
    purge_unpaid_assets(rt)
    requeue_lapsed_jobs(rt)
    abort_orphan_multipart_uploads(rt)
