"""A completed cut as files: an editing timeline of its segments, and subtitles of its speech."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.assets.models import Asset
from roughy.cuts import service
from roughy.cuts.models import Cut
from roughy.speech.types import Span
from roughy.transcripts import service as transcripts
from roughy.transcripts.models import Transcript

TimelineFormat = Literal["otio", "fcpxml", "xmeml", "edl", "json"]
SubtitleFormat = Literal["srt", "vtt"]


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str


def timeline(
    session: Session, account: Account, cut_id: str, fmt: TimelineFormat, media_url: str | None
) -> Export:
    """The kept segments as clips of the source, for an editor to open."""
    from roughy.timelines import SourceMedia, export_timeline  # loaded where exports are asked for

    cut = service.completed(session, account, cut_id)
    asset = session.get(Asset, cut.asset_id)
    transcript = session.get(Transcript, cut.asset_id)
    assert asset is not None and transcript is not None  # both outlive a completed cut
    name = f"{asset.id}.{asset.extension or 'bin'}"
    source = SourceMedia(
        name=name,
        target_url=media_url or f"file:///{name}",
        duration=(asset.duration_ms or 0) / 1000,
        frame_rate=transcript.frame_rate or 25.0,
        has_video=asset.type == "video",
        has_audio=True,
    )
    content, media_type, extension = export_timeline(_segments(cut), source, fmt)
    return Export(content, media_type, f"cut-{cut.id}.{extension}")


def subtitles(session: Session, account: Account, cut_id: str, fmt: SubtitleFormat) -> Export:
    """The kept words, re-timed onto the cut's timeline."""
    from roughy.timelines import export_subtitles

    cut = service.completed(session, account, cut_id)
    transcript = session.get(Transcript, cut.asset_id)
    words = transcripts.words_of(transcript) if transcript is not None else []
    text, media_type = export_subtitles(words, _segments(cut), fmt)
    return Export(text.encode("utf-8"), f"{media_type}; charset=utf-8", f"cut-{cut.id}.{fmt}")


def _segments(cut: Cut) -> list[Span]:
    return [Span(start, end) for start, end in cut.segments or ()]
