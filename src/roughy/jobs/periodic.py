"""Periodic work: reaping uploads left idle past their expiry, and resuming interrupted jobs."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from roughy.assets import service as assets
from roughy.assets.models import Asset
from roughy.assets.tasks import process_asset, purge_asset_bytes
from roughy.db import utcnow
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


def purge_unpaid_assets(rt: Runtime) -> int:
    """pending_payment assets unpaid past the retention are removed with their bytes."""
    cutoff = utcnow() - timedelta(seconds=rt.settings.unpaid_retention_seconds)
    purged = 0
    while True:
        with rt.db.session() as session:
            batch = assets.unpaid_since(session, cutoff)
        if not batch:
            return purged
        for asset_id in batch:
            with rt.db.session() as session:
                gone = assets.purge_unpaid(session, asset_id, cutoff)
            if gone:
                purge_asset_bytes(rt, asset_id)
                purged += 1
                log.info("purged unpaid asset", extra={"asset_id": asset_id})


def lifecycle(rt: Runtime) -> None:
    """The periodic housekeeping; each step is safe to run on several workers at once."""
    reap_expired_uploads(rt)
    purge_unpaid_assets(rt)


def resume_processing(rt: Runtime) -> None:
    """Assets left in ``processing`` by a stopped process are prepared again."""
    with rt.db.session() as session:
        ids = list(session.scalars(select(Asset.id).where(Asset.state == "processing")).all())
    for asset_id in ids:
        rt.jobs.submit(process_asset, rt, asset_id)
