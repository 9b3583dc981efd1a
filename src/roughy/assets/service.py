"""Assets: creation, listing, deletion, and every change of an asset's state.

Each state change is one function here, run inside the caller's transaction, so HTTP handlers,
jobs and the reaper all go through the same rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.assets.models import Asset
from roughy.config import Settings
from roughy.credits import ledger
from roughy.db import owned, paginate, utcnow
from roughy.errors import ApiError, not_found, validation_error
from roughy.events import service as events
from roughy.media.sniff import MIN_HEAD_BYTES
from roughy.projects.models import Project
from roughy.uploads.models import Upload


def create(
    session: Session,
    settings: Settings,
    account: Account,
    project_id: str,
    size_bytes: int,
    language: str | None,
    filename: str | None = None,
    *,
    size_field: str = "body.size_bytes",
) -> tuple[Asset, Upload]:
    """A new asset in ``pending_upload`` with its open upload (``POST /v1/assets``, or TUS
    creation, whose size is ``size_field``)."""
    if size_bytes < MIN_HEAD_BYTES:
        raise validation_error(
            size_field, f"Upload-Length must be at least {MIN_HEAD_BYTES} bytes."
        )
    if size_bytes > settings.max_upload_bytes:
        raise ApiError(
            "payload_too_large",
            f"An upload may hold at most {settings.max_upload_bytes} bytes (50 GiB).",
        )
    project = session.scalar(
        select(Project).where(Project.id == project_id, Project.account_id == account.id)
    )
    if project is None:
        raise not_found("Project")
    if project.state == "archived":
        raise ApiError("conflict", "The project is archived; unarchive it to add assets.")
    if settings.credits_enforced and ledger.balance(session, account.id) <= 0:
        raise ApiError(
            "insufficient_credits", "Your credit balance is empty; top it up to add assets."
        )
    now = utcnow()
    asset = Asset(
        account_id=account.id,
        project_id=project.id,
        language=language,
        filename=filename,
        created_at=now,
    )
    session.add(asset)
    session.flush()
    upload = Upload(
        id=asset.id,
        account_id=account.id,
        length=size_bytes,
        expires_at=now + timedelta(seconds=settings.upload_expiry_seconds),
        created_at=now,
    )
    session.add(upload)
    session.flush()
    return asset, upload


def get(session: Session, account: Account, asset_id: str) -> Asset:
    return owned(session, Asset, asset_id, account.id, "Asset")


# How long a client should wait before asking again while the asset is being prepared.
RETRY_AFTER_SECONDS = 10


def usable(session: Session, account: Account, asset_id: str, purpose: str) -> Asset:
    """The asset, if it can be worked on now (it is ready); else the contract's 409, saying
    what it cannot be (``purpose``: "cut", "rendered")."""
    asset = get(session, account, asset_id)
    if asset.state == "pending_upload":
        # The contract's code and Retry-After stay; the message says that nothing will happen
        # until the bytes come (and an upload nobody finishes expires: the asset is then 404).
        raise ApiError(
            "asset_processing",
            "The asset is still waiting for its upload: nothing happens until its bytes are "
            f"sent to its upload_url; then it is prepared and can be {purpose}.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if asset.state == "processing":
        raise ApiError(
            "asset_processing",
            "The asset is still being prepared; try again in a few seconds.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if asset.state == "pending_payment":
        raise ApiError(
            "asset_payment_required", "The asset waits for payment; top up your credits."
        )
    if asset.state == "failed":
        raise ApiError(
            "asset_failed", f"The asset could not be prepared, so it cannot be {purpose}."
        )
    return asset


def list_(
    session: Session,
    account: Account,
    *,
    project_id: str | None,
    state: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Asset], int]:
    where = [Asset.account_id == account.id]
    if project_id is not None:
        where.append(Asset.project_id == project_id)
    if state is not None:
        where.append(Asset.state == state)
    return paginate(session, Asset, where, limit, offset)


def remove(session: Session, asset: Asset) -> None:
    """Gone at once with its upload; the caller schedules the purge of its bytes."""
    session.execute(delete(Upload).where(Upload.id == asset.id))
    session.delete(asset)


def ids_in_project(session: Session, project_id: str) -> list[str]:
    return list(session.scalars(select(Asset.id).where(Asset.project_id == project_id)).all())


def delete_all_in_project(session: Session, project_id: str) -> list[str]:
    ids = ids_in_project(session, project_id)
    if ids:
        session.execute(delete(Upload).where(Upload.id.in_(ids)))
        session.execute(delete(Asset).where(Asset.id.in_(ids)))
    return ids


def name(asset: Asset, filename: str) -> None:
    """The file's name, given after the asset was made (by the client that sends its bytes)."""
    asset.filename = filename
    asset.updated_at = utcnow()


def identify(asset: Asset, type_: str, content_type: str, extension: str) -> None:
    """What the first chunk showed the media to be."""
    asset.type, asset.content_type, asset.extension = type_, content_type, extension
    asset.updated_at = utcnow()


def mark_uploaded(asset: Asset, size_bytes: int) -> None:
    """pending_upload → processing: the last byte is stored."""
    _expect(asset, "pending_upload")
    asset.state = "processing"
    asset.size_bytes = size_bytes
    asset.updated_at = utcnow()


def mark_measured(asset: Asset, type_: str, duration_ms: int) -> None:
    """What processing found; the asset stays ``processing`` until it is settled."""
    _expect(asset, "processing")
    asset.type = type_
    asset.duration_ms = duration_ms
    asset.updated_at = utcnow()


def mark_ready(session: Session, asset: Asset) -> None:
    """processing or pending_payment → ready: measured and paid for."""
    _expect(asset, "processing", "pending_payment")
    previous, asset.state = asset.state, "ready"
    asset.updated_at = utcnow()
    events.record(
        session,
        asset.account_id,
        "asset.ready",
        asset.id,
        asset_id=asset.id,
        previous_state=previous,
    )


def mark_pending_payment(session: Session, asset: Asset) -> None:
    """processing → pending_payment: measured, but the balance does not cover it."""
    _expect(asset, "processing")
    asset.state = "pending_payment"
    asset.updated_at = utcnow()
    events.record(session, asset.account_id, "asset.pending_payment", asset.id, asset_id=asset.id)


def mark_failed(session: Session, asset: Asset, code: str, message: str) -> None:
    """processing → failed: the bytes cannot be used; nothing is charged."""
    _expect(asset, "processing")
    asset.state = "failed"
    asset.duration_ms = None
    asset.error_code = code
    asset.error_message = message
    asset.updated_at = utcnow()
    events.record(
        session,
        asset.account_id,
        "asset.failed",
        asset.id,
        asset_id=asset.id,
        error_code=code,
        error_message=message,
    )


def _expect(asset: Asset, *states: str) -> None:
    if asset.state not in states:
        raise ApiError("conflict", f"The asset is {asset.state}, not {' or '.join(states)}.")


def unpaid_since(session: Session, cutoff: datetime, limit: int = 100) -> list[str]:
    """Assets waiting for payment since before ``cutoff``."""
    return list(
        session.scalars(
            select(Asset.id)
            .where(Asset.state == "pending_payment", Asset.updated_at <= cutoff)
            .limit(limit)
        ).all()
    )


def purge_unpaid(session: Session, asset_id: str, cutoff: datetime) -> bool:
    """Remove one asset still unpaid since before ``cutoff``; False when that no longer holds."""
    asset = session.get(Asset, asset_id)
    if asset is None or asset.state != "pending_payment" or asset.updated_at > cutoff:
        return False
    remove(session, asset)
    return True
