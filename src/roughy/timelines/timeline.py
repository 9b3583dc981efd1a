"""The cut as one OTIO timeline, before any adapter writes it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from roughy.timelines.frames import FrameRange, SourceMedia


def clip_name(source: SourceMedia) -> str:
    """The source's name on one line, with no quote to trip the adapters' XPath lookups."""
    name = re.sub(r"\s+", " ", source.name).strip().replace("'", "’")
    return name or "source"


def build_timeline(
    ranges: Sequence[FrameRange],
    source: SourceMedia,
    *,
    rate: Fraction | None = None,
    url: str | None = None,
    kinds: Sequence[str] | None = None,
    gaps: bool = False,
) -> Any:
    """The OTIO timeline of the cut: one track per kind, a clip per range.

    The keywords let a writer's workaround change what it needs: the ``rate`` frames are counted
    in, the ``url`` linked to, the track ``kinds``, and ``gaps`` (the first track holds gaps of
    the clips' lengths instead of clips).
    """
    fps = float(rate or source.rate)
    name = clip_name(source)
    if kinds is None:
        kinds = [otio.schema.TrackKind.Video] * source.has_video + [
            otio.schema.TrackKind.Audio
        ] * source.has_audio
    available = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(source.frames, fps)
    )
    timeline = otio.schema.Timeline(name=name)
    for index, kind in enumerate(kinds):
        track = otio.schema.Track(name=f"{kind[0]}1", kind=kind)
        for r in ranges:
            length = otio.opentime.RationalTime(r.length, fps)
            if gaps and index == 0:
                track.append(otio.schema.Gap(duration=length))
                continue
            reference = otio.schema.ExternalReference(
                target_url=url or source.url, available_range=available
            )
            reference.name = name
            track.append(
                otio.schema.Clip(
                    name=name,
                    media_reference=reference,
                    source_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(r.source_start, fps), length
                    ),
                )
            )
        timeline.tracks.append(track)
    return timeline
