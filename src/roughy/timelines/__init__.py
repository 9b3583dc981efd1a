"""Exports of a cut: editing timelines (OTIO and its adapters) and subtitles. No HTTP, no DB."""

from __future__ import annotations

from roughy.timelines.errors import UnknownFormat
from roughy.timelines.frames import SourceMedia, quantise
from roughy.timelines.nle import TIMELINE_FORMATS, export_timeline
from roughy.timelines.subtitles import SUBTITLE_FORMATS, export_subtitles, retime

__all__ = [
    "SUBTITLE_FORMATS",
    "TIMELINE_FORMATS",
    "SourceMedia",
    "UnknownFormat",
    "export_subtitles",
    "export_timeline",
    "quantise",
    "retime",
]
