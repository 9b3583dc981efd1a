"""The one place a store is chosen: ``ROUGHY_STORAGE_URL`` (a directory, or ``s3://bucket/prefix``)."""

from __future__ import annotations

from pathlib import Path

from roughy.config import Settings
from roughy.storage.base import BlobStore
from roughy.storage.files import ObjectFiles
from roughy.storage.local import LocalBlobStore


def open_store(settings: Settings) -> BlobStore:
    url = settings.storage_url
    if url and url.startswith("s3://"):
        from roughy.storage.s3 import S3BlobStore, S3Location, client_from

        client = client_from(
            settings.s3_endpoint_url,
            settings.s3_region,
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
        )
        return S3BlobStore(
            client,
            S3Location.parse(url),
            max_parts=settings.s3_max_parts,
            presigned_downloads=settings.s3_presigned_downloads,
        )
    if url and "://" in url and not url.startswith("file://"):
        raise ValueError(f"ROUGHY_STORAGE_URL: unknown kind of store {url!r}")
    root = Path(url.removeprefix("file://")) if url else settings.blob_dir
    return LocalBlobStore(root, durable=settings.upload_fsync)


def open_files(settings: Settings, store: BlobStore) -> ObjectFiles:
    return ObjectFiles(store, settings.data_dir / "cache", settings.storage_cache_bytes)
