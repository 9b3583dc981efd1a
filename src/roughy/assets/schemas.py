from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from roughy.assets.models import Asset
from roughy.schemas import Timestamp, format_duration

AssetState = Literal["pending_upload", "processing", "pending_payment", "ready", "failed"]
AssetType = Literal["audio", "video"]


class AssetCreate(BaseModel):
    project_id: str = Field(description="Project that will own the new asset.")
    size_bytes: int = Field(description="Total file size in bytes (64 B – 50 GiB).")
    language: str | None = Field(
        default=None, description="ISO 639-1 hint (2 letters); null = auto-detect. Immutable."
    )

    @field_validator("language")
    @classmethod
    def _two_letters(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if len(value) != 2 or not value.isascii() or not value.isalpha():
            raise ValueError("language must be a 2-letter ISO 639-1 code such as 'en' or 'de'")
        return value


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

    @classmethod
    def of_with_urls(
        cls, asset: Asset, upload_url: str | None, download_url: str | None
    ) -> AssetDetail:
        return cls(**_fields(asset), upload_url=upload_url, download_url=download_url)


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
        "error_code": asset.error_code if asset.state == "failed" else None,
        "error_message": asset.error_message if asset.state == "failed" else None,
        "created_at": asset.created_at,
        "cuttable": asset.state == "ready",
    }
