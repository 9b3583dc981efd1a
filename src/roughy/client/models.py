"""The API's objects as the client reads them (``spec/API.md``; checked against the served
``openapi.json`` by ``tests/client/test_openapi.py``).

Fields the server adds later are ignored, so an older client keeps working against a newer
server; every field the client names exists on the server with the same type.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

ProjectState = Literal["active", "archived"]
AssetState = Literal["pending_upload", "processing", "pending_payment", "ready", "failed"]
AssetType = Literal["audio", "video"]
CutState = Literal["pending", "processing", "completed", "failed"]
RenderState = Literal["pending", "processing", "completed", "failed", "cancelled"]
RenderFormat = Literal["mp4", "mov", "m4a", "mp3"]
Resolution = Literal["720p", "1080p", "4k"]
TakePolicy = Literal["last", "best"]
DropReason = Literal["filler", "false_start", "retake", "off_script", "silence", "override"]
ExportFormat = Literal["otio", "fcpxml", "xmeml", "edl", "json"]
SubtitleFormat = Literal["srt", "vtt"]


class ApiObject(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def seconds(value: str | None) -> Decimal | None:
    """A duration or a time as the API writes it (``"324.412"``), exactly."""
    return None if value is None else Decimal(value)


class Page(ApiObject, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class User(ApiObject):
    id: str
    email: str
    name: str | None
    created_at: datetime


class Balance(ApiObject):
    balance: int


class Project(ApiObject):
    id: str
    name: str
    state: ProjectState
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AssetSummary(ApiObject):
    """An asset as a list shows it."""

    id: str
    project_id: str
    type: AssetType | None
    state: AssetState
    extension: str | None
    size_bytes: int | None
    content_type: str | None
    duration_seconds: str | None
    language: str | None
    filename: str | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    cuttable: bool


class Asset(AssetSummary):
    """An asset as its own answer shows it: with its upload URL while ``pending_upload``, a
    fresh signed download URL once ``ready``."""

    upload_url: str | None
    download_url: str | None


class CutOptions(ApiObject):
    max_pause_seconds: float
    padding_before_seconds: float
    padding_after_seconds: float
    remove_fillers: bool
    take: TakePolicy
    remove_repeats: bool


class Segment(ApiObject):
    start: str
    end: str


class TakeOverride(ApiObject):
    """Keep take ``take`` (1-based, a decision's ``take``) of script line ``line``."""

    line: int
    take: int


class SpanOverride(ApiObject):
    """Keep (or drop) every word whose middle lies in [start, end] seconds of the source."""

    start: float
    end: float
    keep: bool


Override = TakeOverride | SpanOverride


class Cut(ApiObject):
    id: str
    asset_id: str
    state: CutState
    script: str | None
    options: CutOptions
    overrides: list[Override] = []
    segments: list[Segment] | None
    kept_duration_seconds: str | None
    missing_lines: list[int] | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class Decision(ApiObject):
    kind: Literal["word", "filler", "pause"]
    text: str | None
    start: str
    end: str
    keep: bool
    reason: DropReason | None
    line: int | None
    take: int | None = None  # which take of its line (1-based) a word belongs to
    note: str | None = None


class Decisions(ApiObject):
    cut_id: str
    items: list[Decision]
    missing_lines: list[int]


class RenderOutput(ApiObject):
    format: RenderFormat
    resolution: Resolution | None
    video_bitrate: Literal[5, 10, 20, 50] | None
    audio_bitrate: Literal[128, 192, 256, 320] | None
    frame_rate: int | None


class Render(ApiObject):
    id: str
    asset_id: str
    cut_id: str | None
    state: RenderState
    progress: float
    output: RenderOutput
    size_bytes: int | None
    duration_seconds: str | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    download_url: str | None = None


# What the client sends (the fields it names must exist on the server's request schemas).


class ProjectCreate(ApiObject):
    name: str


class CutOptionsIn(ApiObject):
    max_pause_seconds: float | None = None
    padding_before_seconds: float | None = None
    padding_after_seconds: float | None = None
    remove_fillers: bool | None = None
    take: TakePolicy | None = None
    remove_repeats: bool | None = None


class CutCreate(ApiObject):
    asset_id: str
    script: str | None = None
    options: CutOptionsIn | None = None
    overrides: list[Override] | None = None


class RenderOutputIn(ApiObject):
    format: RenderFormat
    resolution: Resolution | None = None
    video_bitrate: Literal[5, 10, 20, 50] | None = None
    audio_bitrate: Literal[128, 192, 256, 320] | None = None
    frame_rate: int | None = None


class RenderCreate(ApiObject):
    asset_id: str
    cut_id: str | None = None
    output: RenderOutputIn


# The states after which nothing changes by itself.
ASSET_SETTLED: frozenset[str] = frozenset({"ready", "pending_payment", "failed"})
CUT_SETTLED: frozenset[str] = frozenset({"completed", "failed"})
RENDER_SETTLED: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
