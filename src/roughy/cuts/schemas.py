from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from roughy.cuts.models import Cut
from roughy.schemas import Timestamp, format_duration, format_seconds, storable

CutState = Literal["pending", "processing", "completed", "failed"]
DropReason = Literal["filler", "false_start", "retake", "off_script", "silence"]
MAX_SCRIPT_CHARS = 100_000

Script = Annotated[str, Field(max_length=MAX_SCRIPT_CHARS), AfterValidator(storable)]


class CutCreate(BaseModel):
    asset_id: str = Field(description="The asset to cut; it must be ready.")
    script: Script | None = Field(
        default=None,
        description="What the speaker meant to say, one line per script line (≤ 100 000 "
        "characters); null cuts by the speech alone. The same script on the same asset is the "
        "same cut.",
    )


class Segment(BaseModel):
    start: str = Field(description='Seconds on the source timeline, e.g. "1.230".')
    end: str


class CutOut(BaseModel):
    id: str
    asset_id: str
    state: CutState
    script: str | None
    segments: list[Segment] | None = Field(
        description="The kept spans of the source, in order; null until completed."
    )
    kept_duration_seconds: str | None = Field(description="Total kept time, once completed.")
    missing_lines: list[int] | None = Field(
        description="Script lines (1-based) never said in the recording; null until completed."
    )
    error_code: str | None
    error_message: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None

    @classmethod
    def of(cls, cut: Cut) -> CutOut:
        done = cut.state == "completed"
        segments = cut.segments or [] if done else None
        return cls(
            id=cut.id,
            asset_id=cut.asset_id,
            state=cut.state,
            script=cut.script,
            segments=None
            if segments is None
            else [Segment(start=format_seconds(a), end=format_seconds(b)) for a, b in segments],
            kept_duration_seconds=format_duration(cut.kept_ms or 0) if done else None,
            missing_lines=(cut.missing_lines or []) if done else None,
            error_code=cut.error_code,
            error_message=cut.error_message,
            created_at=cut.created_at,
            started_at=cut.started_at,
            completed_at=cut.completed_at,
        )


class DecisionOut(BaseModel):
    kind: Literal["word", "filler", "pause"]
    text: str | None
    start: str
    end: str
    keep: bool
    reason: DropReason | None = Field(description="Why it was dropped; null when kept.")
    line: int | None = Field(
        description="The script line (1-based) it belongs to, or for a retake, the line repeated."
    )
    note: str | None = Field(
        default=None,
        description="A doubt for a reviewer (ours): why something that looked like a retake or "
        "a restart was kept, or another doubt; null when the decision is plain.",
    )


class Decisions(BaseModel):
    cut_id: str
    items: list[DecisionOut]
    missing_lines: list[int]
