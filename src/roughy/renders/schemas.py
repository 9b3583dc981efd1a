from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from roughy.renders.models import Render
from roughy.schemas import JobStateOut, format_duration

RenderState = Literal["pending", "processing", "completed", "failed", "cancelled"]
Format = Literal["mp4", "mov", "m4a", "mp3"]
Resolution = Literal["720p", "1080p", "4k"]
VideoBitrate = Literal[5, 10, 20, 50]
AudioBitrate = Literal[128, 192, 256, 320]
MAX_FRAME_RATE = 240

_FORMAT = "mp4 and mov: H.264 + AAC; m4a: AAC; mp3: MP3."
_RESOLUTION = (
    "The shorter edge of the picture (video formats only); the aspect ratio is kept, the "
    "source never upscaled nor padded. Null: the source's size."
)
_VIDEO_BITRATE = "Mbit/s at most (video formats only), capped at the source's. Null: Auto."
_AUDIO_BITRATE = "kbit/s, capped at the source's. Null: Auto (192)."
_FRAME_RATE = (
    "Frames per second, when lower than the source's (ours: a higher one changes nothing). "
    "Null: the source's nominal rate; a variable-rate source comes out constant."
)


class RenderOutputIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Format = Field(description=_FORMAT)
    resolution: Resolution | None = Field(default=None, description=_RESOLUTION)
    video_bitrate: VideoBitrate | None = Field(default=None, description=_VIDEO_BITRATE)
    audio_bitrate: AudioBitrate | None = Field(default=None, description=_AUDIO_BITRATE)
    frame_rate: int | None = Field(
        default=None, ge=1, le=MAX_FRAME_RATE, strict=True, description=_FRAME_RATE
    )


class RenderOutputOut(BaseModel):
    """The output this render was ordered with; a null field is Auto."""

    format: Format = Field(description=_FORMAT)
    resolution: Resolution | None = Field(description=_RESOLUTION)
    video_bitrate: VideoBitrate | None = Field(description=_VIDEO_BITRATE)
    audio_bitrate: AudioBitrate | None = Field(description=_AUDIO_BITRATE)
    frame_rate: int | None = Field(description=_FRAME_RATE)


class RenderCreate(BaseModel):
    asset_id: str = Field(description="The asset to render; it must be ready.")
    cut_id: str | None = Field(
        default=None,
        description="A completed cut of this asset: only what it keeps is rendered. Omitted or "
        "null: the whole source.",
    )
    output: RenderOutputIn = Field(
        description="What to make. The same asset, cut and output (nulls and omitted fields "
        "alike) are the same render."
    )


class RenderOut(JobStateOut):
    id: str
    asset_id: str
    cut_id: str | None
    state: RenderState
    progress: float = Field(
        description="How much is encoded, 0 to 1 (ours); 1 once completed.", ge=0, le=1
    )
    output: RenderOutputOut
    size_bytes: int | None = Field(description="The file's size, once completed.")
    duration_seconds: str | None = Field(description="The file's length, once completed.")
    download_url: str | None = Field(
        default=None,
        description="A signed, short-lived URL of the file once completed (Range requests "
        "work); fetch the render again for a fresh one rather than keeping it.",
    )

    @classmethod
    def of(cls, render: Render, download_url: str | None = None) -> RenderOut:
        done = render.state == "completed"
        return cls(
            id=render.id,
            asset_id=render.asset_id,
            cut_id=render.cut_id,
            state=render.state,
            progress=1.0 if done else min(1.0, max(0.0, render.progress)),
            output=RenderOutputOut.model_validate(render.output),
            size_bytes=render.size_bytes if done else None,
            duration_seconds=format_duration(render.duration_ms)
            if done and render.duration_ms is not None
            else None,
            download_url=download_url if done else None,
            **JobStateOut.fields_of(render),
        )


def output_fields(output: RenderOutputIn) -> dict[str, Any]:
    """Every field, nulls included: what makes two orders the same."""
    return output.model_dump()
