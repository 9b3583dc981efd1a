"""Periodic work: reaping uploads left idle past their expiry, and resuming interrupted jobs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from roughy.assets.models import Asset
from roughy.assets.tasks import process_asset, purge_asset_bytes
from roughy.uploads import service as uploads

if TYPE_CHECKING:
    from roughy.runtime import Runtime

log = logging.getLogger("roughy.jobs")


def reap_expired_uploads(rt: Runtime) -> int:
    reaped = 0
    while True:
        with rt.db.session() as session:
            batch = uploads.expired(session)
        if not batch:
            return reaped
        for upload_id in batch:
            with rt.db.session() as session:
                gone = uploads.reap(session, upload_id)
            if gone:
                purge_asset_bytes(rt, upload_id)
                reaped += 1
                log.info("reaped expired upload", extra={"upload_id": upload_id})


def resume_processing(rt: Runtime) -> None:
    """Assets left in ``processing`` by a stopped process are prepared again."""
    with rt.db.session() as session:
        ids = list(session.scalars(select(Asset.id).where(Asset.state == "processing")).all())
    for asset_id in ids:
        rt.jobs.submit(process_asset, rt, asset_id)
