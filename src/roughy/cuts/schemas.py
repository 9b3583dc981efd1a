from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator

from roughy.config import MAX_PAUSE_LIMIT_SECONDS, PADDING_LIMIT_SECONDS
from roughy.cuts.models import Cut
from roughy.schemas import JobStateOut, format_duration, format_seconds, storable

CutState = Literal["pending", "processing", "completed", "failed"]
DropReason = Literal["filler", "false_start", "retake", "off_script", "silence", "override"]
MAX_SCRIPT_CHARS = 100_000
MAX_OVERRIDES = 1000

Script = Annotated[str, Field(max_length=MAX_SCRIPT_CHARS), AfterValidator(storable)]
TakePolicy = Literal["last", "best"]

# What each option does, for the request and for the cut that echoes it.
_MAX_PAUSE = "A pause inside kept speech longer than this is shortened to this, in seconds."
_PADDING_BEFORE = "Kept before the first word of each kept stretch of speech, in seconds."
_PADDING_AFTER = "Kept after the last word of each kept stretch of speech, in seconds."
_REMOVE_FILLERS = (
    "Cut out fillers (um, uh) inside kept speech; false keeps them (they are still reported)."
)
_TAKE = (
    "Which complete take of a script line is kept: the last, or the best (the closest to the "
    "line, ties to the last)."
)
_REMOVE_REPEATS = (
    "Without a script, drop a sentence the next one starts over (a false start, a restart or "
    "a retake); false keeps every sentence. With a script, takes are chosen all the same."
)
_DEFAULT = " Omitted or null: the server's default."


class CutOptionsIn(BaseModel):
    """How to cut (ours). Every option is optional; an omitted one is the server's default."""

    model_config = ConfigDict(extra="forbid")

    max_pause_seconds: float | None = Field(
        default=None,
        gt=0,
        le=MAX_PAUSE_LIMIT_SECONDS,
        allow_inf_nan=False,
        strict=True,
        description=_MAX_PAUSE + f" More than 0, at most {MAX_PAUSE_LIMIT_SECONDS:g}." + _DEFAULT,
    )
    padding_before_seconds: float | None = Field(
        default=None,
        ge=0,
        le=PADDING_LIMIT_SECONDS,
        allow_inf_nan=False,
        strict=True,
        description=_PADDING_BEFORE + f" 0 to {PADDING_LIMIT_SECONDS:g}." + _DEFAULT,
    )
    padding_after_seconds: float | None = Field(
        default=None,
        ge=0,
        le=PADDING_LIMIT_SECONDS,
        allow_inf_nan=False,
        strict=True,
        description=_PADDING_AFTER + f" 0 to {PADDING_LIMIT_SECONDS:g}." + _DEFAULT,
    )
    remove_fillers: StrictBool | None = Field(default=None, description=_REMOVE_FILLERS + _DEFAULT)
    take: TakePolicy | None = Field(default=None, description=_TAKE + _DEFAULT)
    remove_repeats: StrictBool | None = Field(default=None, description=_REMOVE_REPEATS + _DEFAULT)

    def given(self) -> dict[str, Any]:
        """The options the request set."""
        return self.model_dump(exclude_none=True)


class CutOptionsOut(BaseModel):
    """The options a cut was decided with (ours): the request's, the server's defaults for the
    rest. Posted back as `options`, they order the same cut."""

    max_pause_seconds: float = Field(description=_MAX_PAUSE)
    padding_before_seconds: float = Field(description=_PADDING_BEFORE)
    padding_after_seconds: float = Field(description=_PADDING_AFTER)
    remove_fillers: bool = Field(description=_REMOVE_FILLERS)
    take: TakePolicy = Field(description=_TAKE)
    remove_repeats: bool = Field(description=_REMOVE_REPEATS)


class TakeOverride(BaseModel):
    """Keep another take of a script line (ours)."""

    model_config = ConfigDict(extra="forbid")

    line: int = Field(ge=1, strict=True, description="The script line, 1-based.")
    take: int = Field(
        ge=1,
        strict=True,
        description="Which of its takes to keep, 1-based in the recording's order (false "
        "starts counted): a decision's `take`.",
    )


class SpanOverride(BaseModel):
    """Keep or drop every word and filler whose middle lies in [start, end] (ours)."""

    model_config = ConfigDict(extra="forbid")

    start: float = Field(ge=0, allow_inf_nan=False, description="Seconds on the source.")
    end: float = Field(ge=0, allow_inf_nan=False, description="Seconds on the source.")
    keep: StrictBool

    @model_validator(mode="after")
    def _ordered(self) -> SpanOverride:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


Override = TakeOverride | SpanOverride


class CutCreate(BaseModel):
    asset_id: str = Field(description="The asset to cut; it must be ready.")
    script: Script | None = Field(
        default=None,
        description="What the speaker meant to say, one line per script line (≤ 100 000 "
        "characters); null cuts by the speech alone. The same script with the same options on "
        "the same asset is the same cut.",
    )
    options: CutOptionsIn | None = Field(
        default=None,
        description="How to cut (ours); omitted, null or {}: the server's defaults. The same "
        "script and the same options (once defaults are filled in) on the same asset are the "
        "same cut.",
    )
    overrides: list[Override] | None = Field(
        default=None,
        max_length=MAX_OVERRIDES,
        description="A reviewer's choices over the decision (ours), applied in order: "
        "`{line, take}` keeps another take of a script line, `{start, end, keep}` keeps or "
        'drops a span. What they change is marked `reason: "override"` in the decisions. '
        "Omitted, null or []: none. The same overrides with the same script and options are "
        "the same cut.",
    )

    @model_validator(mode="after")
    def _takes_need_a_script(self) -> CutCreate:
        if self.script is None and any(isinstance(o, TakeOverride) for o in self.overrides or ()):
            raise ValueError("overrides: choosing a take of a line needs a script")
        return self


class Segment(BaseModel):
    start: str = Field(description='Seconds on the source timeline, e.g. "1.230".')
    end: str


class CutOut(JobStateOut):
    id: str
    asset_id: str
    state: CutState
    script: str | None
    options: CutOptionsOut = Field(
        description="The options it is cut with: those asked for, the server's defaults for "
        "the rest."
    )
    segments: list[Segment] | None = Field(
        description="The kept spans of the source, in order; null until completed."
    )
    kept_duration_seconds: str | None = Field(description="Total kept time, once completed.")
    missing_lines: list[int] | None = Field(
        description="Script lines (1-based) never said in the recording; null until completed."
    )
    overrides: list[Override] = Field(
        default_factory=list, description="The reviewer's choices it is cut with (ours)."
    )

    @classmethod
    def of(cls, cut: Cut) -> CutOut:
        done = cut.state == "completed"
        segments = cut.segments or [] if done else None
        return cls(
            id=cut.id,
            asset_id=cut.asset_id,
            state=cut.state,
            script=cut.script,
            options=CutOptionsOut.model_validate(cut.options),
            segments=None
            if segments is None
            else [Segment(start=format_seconds(a), end=format_seconds(b)) for a, b in segments],
            kept_duration_seconds=format_duration(cut.kept_ms or 0) if done else None,
            missing_lines=(cut.missing_lines or []) if done else None,
            overrides=[override_of(o) for o in cut.overrides or ()],
            **JobStateOut.fields_of(cut),
        )


class DecisionOut(BaseModel):
    kind: Literal["word", "filler", "pause"]
    text: str | None
    start: str
    end: str
    keep: bool
    reason: DropReason | None = Field(
        description="Why it was dropped; null when kept. `override` (ours): a reviewer's "
        "choice decided it, kept or dropped."
    )
    line: int | None = Field(
        description="The script line (1-based) it belongs to, or for a retake, the line repeated."
    )
    take: int | None = Field(
        default=None,
        description="Which attempt at `line` it is part of, 1-based in the recording's order "
        "(ours): an override `{line, take}` keeps that one.",
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


def override_of(stored: dict[str, Any]) -> Override:
    """A stored override (``service.stored_overrides``) as the API writes it."""
    if "take" in stored:
        return TakeOverride.model_validate(stored)
    return SpanOverride.model_validate(stored)
