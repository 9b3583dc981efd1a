from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from roughy.assets.models import Asset
from roughy.schemas import Timestamp, format_duration

AssetState = Literal["pending_upload", "processing", "pending_payment", "ready", "failed"]
AssetType = Literal["audio", "video"]


MAX_FILENAME_CHARS = 255


def clean_language(value: str) -> str:
    value = value.strip().lower()
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError("language must be a 2-letter ISO 639-1 code such as 'en' or 'de'")
    return value


def clean_filename(value: str) -> str:
    """The file's own name: what follows the last ``/`` or ``\\`` (a browser may send a whole
    path), without surrounding spaces; any Unicode, no control characters."""
    name = value.replace("\\", "/").rpartition("/")[2].strip()
    if not name:
        raise ValueError("filename must name a file, e.g. 'talk.mp3'")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        raise ValueError("filename must not contain control characters")
    if len(name) > MAX_FILENAME_CHARS:
        raise ValueError(f"filename must be at most {MAX_FILENAME_CHARS} characters")
    return name


class AssetCreate(BaseModel):
    project_id: str = Field(description="Project that will own the new asset.")
    size_bytes: int = Field(description="Total file size in bytes (64 B – 50 GiB).")
    language: str | None = Field(
        default=None, description="ISO 639-1 hint (2 letters); null = auto-detect. Immutable."
    )
    filename: str | None = Field(
        default=None,
        description="(ours) The file's name, any Unicode, at most 255 characters; downloads "
        "and renders are named after it. A path is cut to its last part.",
    )
    upload_token: bool = Field(
        default=False,
        description="(ours) Also return an `upload_token`: a short-lived bearer credential "
        "for this one upload alone, safe to hand to a web page.",
    )

    @field_validator("language")
    @classmethod
    def _two_letters(cls, value: str | None) -> str | None:
        return None if value is None else clean_language(value)

    @field_validator("filename")
    @classmethod
    def _a_name(cls, value: str | None) -> str | None:
        return None if value is None else clean_filename(value)


class AssetSummary(BaseModel):
    id: str
    project_id: str
    type: AssetType | None
    state: AssetState
    extension: str | None
    size_bytes: int | None
    content_type: str | None
    duration_seconds: str | None = Field(description='Seconds with three decimals, e.g. "324.412".')
    language: str | None
    filename: str | None = Field(description="(ours) The file's name as the client gave it.")
    error_code: str | None
    error_message: str | None
    created_at: Timestamp
    cuttable: bool

    @classmethod
    def of(cls, asset: Asset) -> AssetSummary:
        return cls(**_fields(asset))


class AssetDetail(AssetSummary):
    upload_url: str | None = Field(description="The TUS URL while pending_upload, else null.")
    download_url: str | None = Field(description="Signed for 15 minutes, only when ready.")
    upload_token: str | None = Field(
        default=None,
        description="(ours) Only in the answer to `POST /v1/assets` with `upload_token: true`: "
        "`Authorization: Bearer <upload_token>` may HEAD, PATCH and DELETE this upload (and "
        "`POST /v1/uploads` finds it), nothing else, until it expires.",
    )

    @classmethod
    def of_with_urls(
        cls,
        asset: Asset,
        upload_url: str | None,
        download_url: str | None,
        upload_token: str | None = None,
    ) -> AssetDetail:
        return cls(
            **_fields(asset),
            upload_url=upload_url,
            download_url=download_url,
            upload_token=upload_token,
        )


def _fields(asset: Asset) -> dict[str, object]:
    duration = asset.duration_ms if asset.state in ("ready", "pending_payment") else None
    return {
        "id": asset.id,
        "project_id": asset.project_id,
        "type": asset.type,
        "state": asset.state,
        "extension": asset.extension,
        "size_bytes": None if asset.state == "pending_upload" else asset.size_bytes,
        "content_type": asset.content_type,
        "duration_seconds": format_duration(duration) if duration is not None else None,
        "language": asset.language,
        "filename": asset.filename,
        "error_code": asset.error_code if asset.state == "failed" else None,
        "error_message": asset.error_message if asset.state == "failed" else None,
        "created_at": asset.created_at,
        "cuttable": asset.state == "ready",
    }
