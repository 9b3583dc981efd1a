"""A cut as an editing timeline: OTIO, FCPXML, Final Cut 7 XML (xmeml), CMX 3600 EDL, or our JSON.

One OTIO timeline holds the kept segments as consecutive clips of the source, on a video track
(when the source has video) and an audio track (when it has audio); every clip links to
``SourceMedia.url`` with the whole source as its available range. The OTIO adapters write it;
where an adapter cannot write what we need, ``adapters.py`` works around it and says why.

The ``json`` format is our own, for scripts that want numbers rather than an editor's file::

    {"format": "roughy.cut", "version": 1,
     "source": {"name", "target_url", "duration", "has_video", "has_audio", "sample_rate"},
     "frame_rate": {"numerator": 30000, "denominator": 1001, "fps": 29.97},
     "duration": 12.345, "duration_frames": 370,
     "segments": [{"source_start", "source_end", "record_start", "record_end"  (seconds, 3 dp),
                   "source_start_frame", "source_end_frame",
                   "record_start_frame", "record_end_frame"}, ...]}

Ends are exclusive. Seconds are the frame boundaries (frame / rate), rounded to milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import opentimelineio as otio

from roughy.speech.types import Span
from roughy.timelines import adapters
from roughy.timelines.errors import UnknownFormat
from roughy.timelines.frames import FrameRange, SourceMedia, frame_ranges
from roughy.timelines.timeline import build_timeline

TIMELINE_FORMATS: dict[str, tuple[str, str]] = {  # format → (media type, file extension)
    "otio": ("application/json", "otio"),
    "fcpxml": ("application/xml", "fcpxml"),
    "xmeml": ("application/xml", "xml"),
    "edl": ("text/plain", "edl"),
    "json": ("application/json", "json"),
}


def export_timeline(
    segments: Sequence[Span], source: SourceMedia, fmt: str
) -> tuple[bytes, str, str]:
    """The cut in ``fmt``: (file contents, media type, file extension)."""
    if fmt not in TIMELINE_FORMATS:
        raise UnknownFormat(fmt, TIMELINE_FORMATS)
    media_type, extension = TIMELINE_FORMATS[fmt]
    ranges = frame_ranges(segments, source)
    if fmt == "json":
        text = json.dumps(cut_json(ranges, source), indent=2) + "\n"
    elif fmt == "otio":
        text = otio.adapters.write_to_string(build_timeline(ranges, source), "otio_json")
    elif fmt == "xmeml":
        text = otio.adapters.write_to_string(build_timeline(ranges, source), "fcp_xml")
    elif fmt == "edl":
        text = adapters.write_edl(ranges, source)
    else:
        text = adapters.write_fcpxml(ranges, source)
    return text.encode("utf-8"), media_type, extension


def cut_json(ranges: Sequence[FrameRange], source: SourceMedia) -> dict[str, Any]:
    rate = source.rate

    def seconds(frame: int) -> float:
        return round(float(frame / rate), 3)

    total = ranges[-1].record_end if ranges else 0
    return {
        "format": "roughy.cut",
        "version": 1,
        "source": {
            "name": source.name,
            "target_url": source.url,
            "duration": source.duration,
            "has_video": source.has_video,
            "has_audio": source.has_audio,
            "sample_rate": source.sample_rate,
        },
        "frame_rate": {
            "numerator": rate.numerator,
            "denominator": rate.denominator,
            "fps": round(float(rate), 3),
        },
        "duration": seconds(total),
        "duration_frames": total,
        "segments": [
            {
                "source_start": seconds(r.source_start),
                "source_end": seconds(r.source_end),
                "record_start": seconds(r.record_start),
                "record_end": seconds(r.record_end),
                "source_start_frame": r.source_start,
                "source_end_frame": r.source_end,
                "record_start_frame": r.record_start,
                "record_end_frame": r.record_end,
            }
            for r in ranges
        ],
    }
