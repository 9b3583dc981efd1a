from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from roughy.schemas import JobStateOut, format_duration, format_seconds
from roughy.transcripts.models import Transcript


class WordOut(BaseModel):
    text: str
    start: str = Field(description='Seconds on the source timeline, e.g. "1.230".')
    end: str
    kind: Literal["word", "filler"]
    confidence: float


class TranscriptOut(JobStateOut):
    asset_id: str
    state: Literal["pending", "processing", "completed", "failed"]
    language: str | None = Field(description="The language given or detected.")
    model: str | None = Field(description="What recognised and aligned the words.")
    duration_seconds: str | None
    words: list[WordOut] | None = Field(description="Every word and filler, once completed.")

    @classmethod
    def of(cls, t: Transcript) -> TranscriptOut:
        done = t.state == "completed"
        return cls(
            asset_id=t.asset_id,
            state=t.state,
            language=t.language,
            model=t.model,
            duration_seconds=format_duration(t.duration_ms) if t.duration_ms is not None else None,
            words=[
                WordOut(
                    text=w["text"],
                    start=format_seconds(w["start"]),
                    end=format_seconds(w["end"]),
                    kind=w["kind"],
                    confidence=w["confidence"],
                )
                for w in t.words or ()
            ]
            if done
            else None,
            **JobStateOut.fields_of(t),
        )
