"""TUS creation (``POST /v1/uploads``): an asset made exactly as ``POST /v1/assets`` makes it,
its fields taken from ``Upload-Length`` and ``Upload-Metadata``; or, with an upload token, the
token's own upload."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.assets import service as assets
from roughy.assets.models import Asset
from roughy.assets.schemas import clean_filename, clean_language
from roughy.config import Settings
from roughy.db import parse_id
from roughy.errors import ApiError, not_found, validation_error
from roughy.uploads.models import Upload

METADATA_FIELD = "header.Upload-Metadata."
LENGTH_FIELD = "header.Upload-Length"


def _field(metadata: Mapping[str, str], name: str, clean: Callable[[str], str]) -> str | None:
    value = metadata.get(name)
    if value is None or value == "":
        return None
    try:
        return clean(value)
    except ValueError as exc:
        raise validation_error(METADATA_FIELD + name, str(exc)) from None


def create(
    session: Session,
    settings: Settings,
    account: Account,
    length: int,
    metadata: Mapping[str, str],
) -> tuple[Asset, Upload]:
    """A new asset and its upload. ``project_id`` is required; ``filename`` and ``language``
    are the asset's; ``filetype`` and any other key are accepted and not kept (the type comes
    from the bytes)."""
    raw_project = metadata.get("project_id")
    if not raw_project:
        raise validation_error(
            METADATA_FIELD + "project_id",
            "Upload-Metadata must carry project_id, the project that will own the asset.",
        )
    project_id = parse_id(raw_project)
    if project_id is None:
        raise validation_error(METADATA_FIELD + "project_id", "project_id must be a UUID.")
    language = _field(metadata, "language", clean_language)
    filename = _field(metadata, "filename", clean_filename)
    return assets.create(
        session,
        settings,
        account,
        project_id,
        length,
        language,
        filename,
        size_field=LENGTH_FIELD,
    )


def tokens_upload(
    session: Session, upload_id: str, length: int, metadata: Mapping[str, str]
) -> tuple[Asset, Upload]:
    """The upload an upload token was made for, which the creation finds: the length must be
    the one given when it was made; a file name fills in one not given then."""
    upload = session.get(Upload, upload_id)
    asset = session.get(Asset, upload_id)
    if upload is None or asset is None:
        raise not_found("Upload")
    if length != upload.length:
        raise ApiError(
            "conflict",
            f"This upload token is for an upload of {upload.length} bytes, not {length}.",
        )
    filename = _field(metadata, "filename", clean_filename)
    if filename is not None and asset.filename is None:
        assets.name(asset, filename)
    return asset, upload
