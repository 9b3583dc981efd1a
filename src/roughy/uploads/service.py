"""The rules of a TUS upload: who may write, at which offset, and what a stored byte changes.

Every function runs in one transaction given by the caller. The offset only ever moves by a
conditional update (``WHERE offset = <start>``), so two writers can never both advance it, even
on different nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from roughy.accounts.models import Account, ApiKey
from roughy.accounts.service import KeyLookup, last_use_is_stale
from roughy.assets import service as assets
from roughy.assets.models import Asset
from roughy.config import Settings
from roughy.db import utcnow
from roughy.errors import ApiError, not_found
from roughy.media.sniff import MediaFormat
from roughy.storage.base import BlobStore
from roughy.uploads.models import Upload


@dataclass(frozen=True)
class UploadStatus:
    id: str
    length: int
    offset: int
    expires_at: datetime | None  # None once complete: a finished upload does not expire

    @property
    def complete(self) -> bool:
        return self.offset == self.length


def _status(upload: Upload) -> UploadStatus:
    done = upload.completed_at is not None
    return UploadStatus(
        id=upload.id,
        length=upload.length,
        offset=upload.length if done else upload.offset,
        expires_at=None if done else upload.expires_at,
    )


def _live(session: Session, account: Account, upload_id: str) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None or upload.account_id != account.id:
        raise not_found("Upload")
    if upload.completed_at is None and upload.expires_at <= utcnow():
        raise not_found("Upload")  # expired: the reaper removes it, the URL is gone already
    return upload


def status(session: Session, account: Account, upload_id: str) -> UploadStatus:
    return _status(_live(session, account, upload_id))


STATUS_BY_KEY = (
    select(
        ApiKey.key_hash,
        ApiKey.revoked_at,
        ApiKey.last_used_at,
        Upload.length,
        Upload.offset,
        Upload.expires_at,
        Upload.completed_at,
    )
    .select_from(ApiKey)
    .outerjoin(
        Upload,
        and_(Upload.id == bindparam("upload_id"), Upload.account_id == ApiKey.account_id),
    )
    .where(ApiKey.prefix == bindparam("prefix"))
)
"""The everyday HEAD in one statement: the rows of keys with this prefix, each joined to its
account's upload of this id. Rows are read by ``plain_status``."""


def plain_status(
    rows: Iterable[Sequence[Any]], key: KeyLookup, upload_id: str
) -> UploadStatus | None:
    """Where the upload stands, from the rows of ``STATUS_BY_KEY``.

    None unless the answer is a plain "here it stands": an unknown or revoked key, a last use
    worth recording, an upload that is missing or expired all go the full way (``status``
    after authentication), which records the use or says what is wrong.
    """
    now = utcnow()
    for key_hash, revoked_at, last_used_at, length, offset, expires_at, completed_at in rows:
        if not key.matches(key_hash):
            continue
        if revoked_at is not None or last_use_is_stale(last_used_at, now):
            return None
        if length is None or (completed_at is None and expires_at <= now):
            return None
        done = completed_at is not None
        return UploadStatus(
            id=upload_id,
            length=length,
            offset=length if done else offset,
            expires_at=None if done else expires_at,
        )
    return None


def begin_patch(
    session: Session,
    account: Account,
    upload_id: str,
    client_offset: int,
    content_length: int | None,
) -> UploadStatus:
    """Check a PATCH against the upload before any byte of its body is read."""
    current = status(session, account, upload_id)
    if client_offset != current.offset:
        raise ApiError(
            "conflict",
            f"Upload-Offset {client_offset} does not match the server's offset {current.offset}; "
            "HEAD the upload and resume from there.",
        )
    if content_length is not None and current.offset + content_length > current.length:
        raise ApiError(
            "payload_too_large",
            f"The chunk would end at byte {current.offset + content_length}, "
            f"past the upload's length of {current.length}.",
        )
    return current


@dataclass(frozen=True)
class Committed:
    offset: int
    expires_at: datetime | None
    finished: bool


def commit(
    session: Session,
    settings: Settings,
    store: BlobStore,
    upload_id: str,
    start: int,
    end: int,
    media: MediaFormat | None,
) -> Committed:
    """Acknowledge bytes ``start``–``end`` (already durable in the store).

    The PATCH that stores the last byte moves the asset to ``processing`` in this same
    transaction, and the bytes become the asset's object.
    """
    now = utcnow()
    expires_at = now + timedelta(seconds=settings.upload_expiry_seconds)
    moved = session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.offset == start, Upload.completed_at.is_(None))
        .values(offset=end, expires_at=expires_at)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise ApiError(
            "conflict", "The upload moved on while this chunk was stored; HEAD and resume."
        )
    asset = session.get(Asset, upload_id)
    upload = session.get(Upload, upload_id)
    if asset is None or upload is None:
        raise not_found("Upload")
    if media is not None:
        assets.identify(asset, media.type, media.content_type, media.extension)
    if end < upload.length:
        return Committed(offset=end, expires_at=expires_at, finished=False)
    upload.completed_at = now
    assets.mark_uploaded(asset, upload.length)
    store.finish_upload(upload_id, asset.id)
    return Committed(offset=end, expires_at=None, finished=True)


def cancel(session: Session, upload_id: str) -> None:
    """Remove an unfinished upload and its asset (first chunk refused, or terminated)."""
    asset = session.get(Asset, upload_id)
    if asset is not None and asset.state == "pending_upload":
        assets.remove(session, asset)


def terminate(session: Session, account: Account, upload_id: str) -> bool:
    """TUS termination. Idempotent; returns whether there were bytes to purge."""
    upload = session.get(Upload, upload_id)
    if upload is None:
        return False
    if upload.account_id != account.id:
        raise not_found("Upload")
    if upload.completed_at is not None:
        raise ApiError(
            "conflict",
            "The upload is complete; delete the asset with DELETE /v1/assets/{id} instead.",
        )
    cancel(session, upload_id)
    return True


def expired(session: Session, limit: int = 100) -> list[str]:
    now = utcnow()
    return list(
        session.scalars(
            select(Upload.id)
            .where(Upload.completed_at.is_(None), Upload.expires_at <= now)
            .limit(limit)
        ).all()
    )


def reap(session: Session, upload_id: str) -> bool:
    """Remove one expired upload with its asset, if it is still expired and unfinished."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.completed_at is not None or upload.expires_at > utcnow():
        return False
    cancel(session, upload_id)
    return True
