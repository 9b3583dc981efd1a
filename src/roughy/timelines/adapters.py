"""Workarounds for what the OTIO adapters cannot write as they stand (otio 0.18, adapters 1.0).

CMX 3600 (``otio-cmx3600-adapter``):
  - it writes only the stack's first track, and insists on exactly one video track; its events
    say ``V`` or ``A`` by that track's kind. We give it one video track and then set each
    event's channel to what the source has: ``B`` (video and audio 1), ``V``, or ``A``.
  - an empty track makes it fail (``track[-1]``); an empty cut gets one empty gap, which writes
    no event.
  - it writes drop-frame timecode (``;``) at 29.97 and 59.94 fps but no ``FCM`` line; we add one.
  - reel names are ours (``reel_name``), not its truncation of the clip name.
  - edit numbers past 999 are written with four digits (the format allows three).

FCPXML (``otio-fcpx-xml-adapter``):
  - it knows only a table of frame rates, keyed by ``int(rate)``, so 30000/1001 and 24000/1001
    fail. We count frames at 25 fps (a table rate whose times it writes exactly), then relabel:
    ``frameDuration`` becomes the source's, and every time ``n/25`` becomes ``n / rate``.
  - a single timeline's project is written beside a browser clip per clip (its lookup of an
    existing one tests an XML element's truth, false when it has no children), which the DTD
    does not allow and FCP would import as thousands of clips; we drop those.
  - it places a connected (audio) clip by truncating a float (``int(seconds * fps)``), a frame
    early when the float falls short; ours always start with their parent, at its start.
  - it runs ``ffprobe`` on a clip's target when the file exists here, per clip when that yields
    no video size; and it looks assets up by XPath built from names and URLs, which a quote
    breaks. It gets a placeholder URL, replaced by the real one (escaped) afterwards.
  - audio tracks are only connected to clips of the primary storyline (a video track); without
    one it fails. An audio-only cut's storyline is gaps the lengths of its clips.
  - its reader takes ``int(fps)`` for the rate (29 for 29.97), so OTIO cannot read NTSC-rate
    FCPXML back to the frame; the tests read those with ElementTree.
  - it finds each connected clip's parent by walking the whole spine: quadratic in the clips
    (44 s for 2,000). We give it 64 clips at a time and join the runs' spines (2.5 s).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from xml.etree import ElementTree

import opentimelineio as otio

from roughy.timelines.frames import FrameRange, SourceMedia
from roughy.timelines.timeline import build_timeline

_FCPX_WRITER_RATE = Fraction(25)
_PLACEHOLDER_URL = "roughy-source:placeholder"
_FCPX_RUN = 64  # clips per call of the writer (see ``_written_in_runs``)


def reel_name(source: SourceMedia) -> str:
    """Up to 8 letters and digits from the source's name (without extension), else SOURCE."""
    stem = source.name.rsplit(".", 1)[0] if "." in source.name else source.name
    return re.sub(r"[^A-Za-z0-9]", "", stem)[:8] or "SOURCE"


def edl_channel(source: SourceMedia) -> str:
    if source.has_video:
        return "B" if source.has_audio else "V"
    return "A"


def write_edl(ranges: Sequence[FrameRange], source: SourceMedia) -> str:
    timeline = build_timeline(ranges, source, kinds=[otio.schema.TrackKind.Video])
    (track,) = timeline.tracks
    reel = reel_name(source)
    for clip in track:
        clip.metadata["cmx_3600"] = {"reel": reel}
    if not ranges:
        track.append(otio.schema.Gap(duration=otio.opentime.RationalTime(0, float(source.rate))))
    text: str = otio.adapters.write_to_string(
        timeline, "cmx_3600", rate=float(source.rate), style="avid"
    )
    text = re.sub(
        r"^(\d{3,}  .{8} )V    (?= C )",
        lambda m: f"{m.group(1)}{edl_channel(source):5}",
        text,
        flags=re.MULTILINE,
    )
    drop_frame = source.rate in (Fraction(30000, 1001), Fraction(60000, 1001))
    fcm = "FCM: DROP FRAME" if drop_frame else "FCM: NON-DROP FRAME"
    title, _, events = text.partition("\n\n")
    return f"{title}\n{fcm}\n\n{events}"


def write_fcpxml(ranges: Sequence[FrameRange], source: SourceMedia) -> str:
    root = _written_in_runs(ranges, source)
    for element in root.iter():
        for attribute in ("offset", "duration", "start"):
            if attribute in element.attrib:
                element.set(attribute, _relabel(element.attrib[attribute], source.rate))
        for attribute in ("name", "uid"):
            if element.get(attribute) == "":
                del element.attrib[attribute]
        if element.tag == "format":
            element.set("frameDuration", rational(1 / source.rate))
        if element.get("src") == _PLACEHOLDER_URL:
            element.set("src", source.url)
    for parent in root.iterfind("project/sequence/spine/*"):
        for connected in parent.iterfind("*[@lane]"):
            connected.set("offset", parent.get("start", "0s"))
    ElementTree.indent(root, "    ")
    body = ElementTree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n{body}\n'


def _written_in_runs(ranges: Sequence[FrameRange], source: SourceMedia) -> ElementTree.Element:
    """The writer's document for all of ``ranges``, written ``_FCPX_RUN`` clips at a time and
    joined: it looks each connected clip's parent up by walking the whole spine, so one call
    for all of them takes time quadratic in their number. A run's spine elements move on by the
    runs before it."""
    first, *rest = [
        _written(ranges[at : at + _FCPX_RUN], source)
        for at in range(0, max(len(ranges), 1), _FCPX_RUN)
    ]
    for browser_clip in first.findall("asset-clip"):
        first.remove(browser_clip)
    sequence, spine = _sequence_and_spine(first)
    elapsed = _seconds(sequence.get("duration", "0s"))
    for run in rest:
        run_sequence, run_spine = _sequence_and_spine(run)
        for element in run_spine:
            element.set("offset", rational(_seconds(element.get("offset", "0s")) + elapsed))
            spine.append(element)
        elapsed += _seconds(run_sequence.get("duration", "0s"))
    sequence.set("duration", rational(elapsed))
    return first


def _written(ranges: Sequence[FrameRange], source: SourceMedia) -> ElementTree.Element:
    kinds = [otio.schema.TrackKind.Video] + [otio.schema.TrackKind.Audio] * source.has_audio
    timeline = build_timeline(
        ranges,
        source,
        rate=_FCPX_WRITER_RATE,
        url=_PLACEHOLDER_URL,
        kinds=kinds,
        gaps=not source.has_video,
    )
    return ElementTree.fromstring(otio.adapters.write_to_string(timeline, "fcpx_xml"))


def _sequence_and_spine(
    root: ElementTree.Element,
) -> tuple[ElementTree.Element, ElementTree.Element]:
    sequence = root.find("project/sequence")
    spine = None if sequence is None else sequence.find("spine")
    assert sequence is not None and spine is not None  # the writer always makes both
    return sequence, spine


def _seconds(time: str) -> Fraction:
    return Fraction(time.removesuffix("s"))


def _relabel(time: str, rate: Fraction) -> str:
    """A time the writer wrote in frames of 25 fps, as the same count of frames of ``rate``."""
    frames = _seconds(time) * _FCPX_WRITER_RATE
    if frames.denominator != 1:
        raise AssertionError(f"the FCPXML writer wrote {time}, which is not on a frame")
    return rational(frames / rate)


def rational(seconds: Fraction) -> str:
    """FCPXML's time notation: 0s, 3s, 1001/30000s."""
    if seconds.denominator == 1:
        return f"{seconds.numerator}s"
    return f"{seconds.numerator}/{seconds.denominator}s"
