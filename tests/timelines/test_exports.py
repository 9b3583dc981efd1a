"""Exports of a cut, read back with the readers editors use: OTIO adapters, pysubs2, webvtt-py."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

import opentimelineio as otio
import pysubs2
import pytest
import webvtt

from roughy.speech.types import Span, Word
from roughy.timelines import (
    SUBTITLE_FORMATS,
    TIMELINE_FORMATS,
    SourceMedia,
    UnknownFormat,
    export_subtitles,
    export_timeline,
    quantise,
    retime,
)

URL = "file:///media/talks/keynote.mp4"


def source(fps: float, rate: Fraction, *, video: bool = True, duration: float = 60.0) -> Any:
    return pytest.param(
        SourceMedia("keynote.mp4", URL, duration, fps, has_video=video),
        rate,
        id=f"{fps}fps" if video else "audio-only",
    )


SOURCES = [
    source(25, Fraction(25)),
    source(29.97, Fraction(30000, 1001)),
    source(24, Fraction(24)),
    source(23.976, Fraction(24000, 1001)),
    source(48, Fraction(25), video=False),  # audio-only: 25 fps whatever frame_rate says
]
# Off-frame times at every rate; one starts at 0, one ends at the source's end.
SEGMENTS = (Span(0.0, 1.013), Span(2.5071, 4.2), Span(10.33, 17.0), Span(59.21, 60.0))
# More clips than the FCPXML writer is given at once (``adapters._FCPX_RUN``).
MANY = tuple(Span(i * 0.4 + 0.013, i * 0.4 + 0.25) for i in range(150))
CUTS = [pytest.param(SEGMENTS, id="4-clips"), pytest.param(MANY, id="150-clips")]


def expected_frames(segments: Sequence[Span], rate: Fraction) -> list[tuple[int, int]]:
    """Start rounded down, end rounded up: no kept speech is lost. Decimal-exact."""
    return [
        (math.floor(Fraction(str(s.start)) * rate), math.ceil(Fraction(str(s.end)) * rate))
        for s in segments
    ]


def frame(time: Any, rate: Fraction) -> int:
    """An OTIO time as a frame of ``rate``, failing unless it lies on one."""
    value = time.value * float(rate) / time.rate
    assert abs(value - round(value)) < 1e-6, (time, rate)
    return round(value)


def clip_frames(track: Any, rate: Fraction) -> list[tuple[int, int]]:
    clips = list(track.find_clips())
    return [
        (frame(c.source_range.start_time, rate), frame(c.source_range.end_time_exclusive(), rate))
        for c in clips
    ]


def record_frames(track: Any, rate: Fraction) -> list[tuple[int, int]]:
    ranges = [track.range_of_child(c) for c in track.find_clips()]
    return [(frame(r.start_time, rate), frame(r.end_time_exclusive(), rate)) for r in ranges]


def laid_end_to_end(frames: list[tuple[int, int]]) -> list[tuple[int, int]]:
    record, out = 0, []
    for start, end in frames:
        out.append((record, record + end - start))
        record += end - start
    return out


def export_text(segments: Sequence[Span], media: SourceMedia, fmt: str) -> str:
    data, media_type, extension = export_timeline(segments, media, fmt)
    assert (media_type, extension) == TIMELINE_FORMATS[fmt]
    return data.decode("utf-8")


def read_back(segments: Sequence[Span], media: SourceMedia, fmt: str, rate: Fraction) -> Any:
    text = export_text(segments, media, fmt)
    adapter = {"otio": "otio_json", "xmeml": "fcp_xml", "edl": "cmx_3600", "fcpxml": "fcpx_xml"}
    options = {"rate": float(rate)} if fmt == "edl" else {}
    return otio.adapters.read_from_string(text, adapter_name=adapter[fmt], **options)


def tracks_by_kind(timeline: Any) -> dict[str, list[Any]]:
    kinds: dict[str, list[Any]] = {}
    for track in timeline.tracks:
        if list(track.find_clips()):
            kinds.setdefault(track.kind, []).append(track)
    return kinds


def check_otio(timeline: Any, media: SourceMedia, rate: Fraction, want: list[tuple[int, int]]):
    kinds = tracks_by_kind(timeline)
    assert set(kinds) == {
        k for k, has in (("Video", media.has_video), ("Audio", media.has_audio)) if has
    }
    for tracks in kinds.values():
        for track in tracks:
            assert clip_frames(track, rate) == want
            assert record_frames(track, rate) == laid_end_to_end(want)
            assert {c.media_reference.target_url for c in track.find_clips()} == {URL}


@pytest.mark.parametrize(("media", "rate"), SOURCES)
@pytest.mark.parametrize("fmt", ["otio", "xmeml", "edl"])
def test_timeline_round_trips_to_the_frame(fmt: str, media: SourceMedia, rate: Fraction) -> None:
    want = expected_frames(SEGMENTS, rate)
    assert want[0][0] == 0 and want[-1][1] == math.ceil(60 * rate)
    check_otio(read_back(SEGMENTS, media, fmt, rate), media, rate, want)


@pytest.mark.parametrize(("media", "rate"), [s for s in SOURCES if s.values[1].denominator == 1])
def test_fcpxml_round_trips_through_otio_at_whole_rates(media: SourceMedia, rate: Fraction) -> None:
    # OTIO's FCPXML reader takes int(fps) as the rate, so 29.97 fps reads back wrong, and it
    # truncates seconds * fps (9.2 s * 25 reads as frame 229); those are checked with
    # ElementTree below.
    timeline = read_back(SEGMENTS, media, "fcpxml", rate)
    want = expected_frames(SEGMENTS, rate)
    audio = [t for t in timeline.tracks if t.kind == "Audio"]
    assert len(audio) == 1
    assert clip_frames(audio[0], rate) == want
    assert {c.media_reference.target_url for c in audio[0].find_clips()} == {URL}
    if media.has_video:
        (video,) = (t for t in timeline.tracks if t.kind == "Video")
        assert clip_frames(video, rate) == want
        assert record_frames(video, rate) == laid_end_to_end(want)


def fcpx_time(value: str | None, rate: Fraction) -> int:
    seconds = Fraction((value or "0s").removesuffix("s"))
    frames = seconds * rate
    assert frames.denominator == 1, f"{value} is not on a frame of {rate}"
    return int(frames)


@pytest.mark.parametrize("segments", CUTS)
@pytest.mark.parametrize(("media", "rate"), SOURCES)
def test_fcpxml_times_are_exact_frames(
    media: SourceMedia, rate: Fraction, segments: Sequence[Span]
) -> None:
    root = ElementTree.fromstring(export_text(segments, media, "fcpxml"))
    (fmt,) = root.iter("format")
    assert Fraction(fmt.attrib["frameDuration"].removesuffix("s")) == 1 / rate
    (asset,) = root.iter("asset")
    assert asset.attrib["src"] == URL
    assert (asset.attrib["hasVideo"], asset.attrib["hasAudio"]) == (str(int(media.has_video)), "1")
    spine = root.find("project/sequence/spine")
    assert spine is not None
    want = expected_frames(segments, rate)
    primary = list(spine)
    assert len(primary) == len(want)
    records = [
        (fcpx_time(e.get("offset"), rate), fcpx_time(e.get("duration"), rate)) for e in primary
    ]
    assert records == [(a, b - a) for a, b in laid_end_to_end(want)]
    if media.has_video:
        assert [
            (fcpx_time(e.get("start"), rate), fcpx_time(e.get("duration"), rate)) for e in primary
        ] == [(a, b - a) for a, b in want]
    audio = [c for e in primary for c in e if c.get("lane") == "-1"]
    assert [
        (fcpx_time(c.get("start"), rate), fcpx_time(c.get("duration"), rate)) for c in audio
    ] == [(a, b - a) for a, b in want]
    # A connected clip sits at its parent's start, in the parent's own time.
    for parent, child in zip(primary, audio, strict=True):
        assert child.get("offset") == (parent.get("start") or "0s")
    assert not root.findall("asset-clip")  # the writer's duplicate browser clips are gone


@pytest.mark.parametrize(("media", "rate"), SOURCES)
def test_json_lists_frames_and_seconds(media: SourceMedia, rate: Fraction) -> None:
    document = json.loads(export_text(SEGMENTS, media, "json"))
    want = expected_frames(SEGMENTS, rate)
    assert Fraction(document["frame_rate"]["numerator"], document["frame_rate"]["denominator"]) == (
        rate
    )
    assert document["source"]["target_url"] == URL
    segments = document["segments"]
    assert [(s["source_start_frame"], s["source_end_frame"]) for s in segments] == want
    assert [(s["record_start_frame"], s["record_end_frame"]) for s in segments] == (
        laid_end_to_end(want)
    )
    for s in segments:
        for key in ("source_start", "source_end", "record_start", "record_end"):
            assert s[key] == round(float(s[f"{key}_frame"] / rate), 3)
    assert document["duration_frames"] == segments[-1]["record_end_frame"]


@pytest.mark.parametrize(("media", "rate"), SOURCES)
def test_edl_is_valid_cmx_3600(media: SourceMedia, rate: Fraction) -> None:
    text = export_text(SEGMENTS, media, "edl")
    events = [line for line in text.splitlines() if re.match(r"\d{3} ", line)]
    assert len(events) == len(SEGMENTS)
    channel = "B" if media.has_video else "A"
    drop = rate in (Fraction(30000, 1001), Fraction(60000, 1001))
    assert ("FCM: DROP FRAME" if drop else "FCM: NON-DROP FRAME") in text.splitlines()
    for line in events:
        _number, reel, kind, edit, *timecodes = line.split()
        assert re.fullmatch(r"[A-Za-z0-9]{1,8}", reel) and reel == "keynote"
        assert (kind, edit, len(timecodes)) == (channel, "C", 4)


@pytest.mark.parametrize("fmt", TIMELINE_FORMATS)
def test_source_with_video_only(fmt: str) -> None:
    media = SourceMedia("screen.mov", URL, 30.0, 30, has_audio=False)
    text = export_text([Span(1.0, 2.0)], media, fmt)
    if fmt == "json":
        assert json.loads(text)["segments"][0]["source_start_frame"] == 30
    elif fmt == "fcpxml":
        assert 'hasAudio="0"' in text and 'lane="-1"' not in text
    else:
        timeline = read_back([Span(1.0, 2.0)], media, fmt, Fraction(30))
        check_otio(timeline, media, Fraction(30), [(30, 60)])


@pytest.mark.parametrize(("media", "rate"), SOURCES)
@pytest.mark.parametrize("fmt", TIMELINE_FORMATS)
def test_empty_cut_is_an_empty_timeline(fmt: str, media: SourceMedia, rate: Fraction) -> None:
    text = export_text([], media, fmt)
    if fmt == "json":
        document = json.loads(text)
        assert document["segments"] == [] and document["duration_frames"] == 0
    else:
        timeline = read_back([], media, fmt, rate)
        assert not list(timeline.find_clips())


@pytest.mark.parametrize("fmt", TIMELINE_FORMATS)
def test_a_thousand_segments(fmt: str) -> None:
    media = SourceMedia("long.mp4", URL, 3600.0, 29.97)
    rate = Fraction(30000, 1001)
    segments = [Span(i * 3.6 + 0.013, i * 3.6 + 2.0) for i in range(1000)]
    want = expected_frames(segments, rate)
    if fmt == "json":
        frames = json.loads(export_text(segments, media, fmt))["segments"]
        assert [(s["source_start_frame"], s["source_end_frame"]) for s in frames] == want
    elif fmt == "fcpxml":
        spine = ElementTree.fromstring(export_text(segments, media, fmt)).find(
            "project/sequence/spine"
        )
        assert spine is not None
        starts = [fcpx_time(e.get("start"), rate) for e in spine]
        assert starts == [a for a, _ in want]
    else:
        check_otio(read_back(segments, media, fmt, rate), media, rate, want)


def test_segments_that_meet_on_a_frame_become_one_clip() -> None:
    media = SourceMedia("talk.mp4", URL, 10.0, 25)
    # 1.01 s ends in frame 25, 1.03 s starts in it: one frame must not play twice.
    timeline = read_back([Span(0.5, 1.01), Span(1.03, 2.0), Span(5.0, 6.0)], media, "otio", 25)
    check_otio(timeline, media, Fraction(25), [(12, 50), (125, 150)])


def test_quantised_segments_cover_the_kept_speech() -> None:
    media = SourceMedia("talk.mp4", URL, 60.0, 29.97)
    quantised = quantise(SEGMENTS, media)
    assert len(quantised) == len(SEGMENTS)
    for kept, cut in zip(SEGMENTS, quantised, strict=True):
        assert cut.start <= kept.start < cut.start + 1001 / 30000
        assert cut.end - 1001 / 30000 < kept.end <= cut.end


def test_segments_beyond_the_source_are_clamped() -> None:
    media = SourceMedia("talk.mp4", URL, 10.0, 25)
    document = json.loads(export_text([Span(-1.0, 0.5), Span(9.5, 12.0)], media, "json"))
    frames = [(s["source_start_frame"], s["source_end_frame"]) for s in document["segments"]]
    assert frames == [(0, 13), (237, 250)]


def test_a_path_becomes_a_file_url_and_odd_names_survive() -> None:
    media = SourceMedia("Bob's\ntalk.mp4", "/media/Bob's talk.mp4", 10.0, 25)
    url = "file:///media/Bob%27s%20talk.mp4"
    for fmt in ("otio", "xmeml", "edl", "fcpxml"):
        timeline = read_back([Span(1.0, 2.0)], media, fmt, Fraction(25))
        assert {c.media_reference.target_url for c in timeline.find_clips()} == {url}, fmt
    edl = export_text([Span(1.0, 2.0)], media, "edl")
    assert edl.startswith("TITLE: Bob’s talk.mp4\n")
    assert "001  Bobstalk B     C" in edl


def test_unknown_formats_are_refused() -> None:
    media = SourceMedia("talk.mp4", URL, 10.0, 25)
    with pytest.raises(UnknownFormat, match="otio, fcpxml, xmeml, edl, json"):
        export_timeline(SEGMENTS, media, "aaf")
    with pytest.raises(UnknownFormat, match="srt, vtt"):
        export_subtitles([], SEGMENTS, "ass")
    with pytest.raises(ValueError):
        export_timeline(SEGMENTS, media, "OTIO")


# Subtitles ------------------------------------------------------------------------------------


def test_retime() -> None:
    segments = [Span(1.0, 2.0), Span(3.0, 5.0), Span(8.0, 8.5)]
    assert retime(1.5, segments) == 0.5
    assert retime(3.5, segments) == 1.5
    assert retime(8.25, segments) == 3.25
    assert retime(1.0, segments) == 0.0
    assert retime(2.0, segments) == 1.0
    for dropped in (0.5, 2.5, 7.9, 9.0):
        assert retime(dropped, segments) is None
    assert retime(1.0, []) is None


def words_of(text: str, start: float, step: float = 0.35, length: float = 0.3) -> list[Word]:
    out = []
    for i, token in enumerate(text.split()):
        kind = "filler" if token in ("um", "uh") else "word"
        out.append(Word(token, start + i * step, start + i * step + length, kind))
    return out


# A talk with fillers, a retake and pauses; the segments keep some of it.
WORDS = (
    words_of("Welcome to the talk. Today um we look at", 0.5)
    + words_of("how cutting works", 4.0)  # kept
    + words_of("how cutting, sorry, how editing works in practice.", 6.0)  # partly dropped
    + words_of("It is a long sentence that goes on and on without any stop at all for", 12.0)
    + words_of("quite a while and then some more words after a long pause.", 20.0)
)
TALK_SEGMENTS = (Span(0.4, 3.5), Span(3.9, 5.2), Span(7.0, 8.9), Span(11.9, 24.2))


def kept_words(words: Sequence[Word], segments: Sequence[Span]) -> list[tuple[str, float]]:
    """The kept words and their midpoints on the cut, worked out here, not with ``retime``."""
    kept = []
    for w in words:
        mid = (w.start + w.end) / 2
        for k, s in enumerate(segments):
            if w.kind == "word" and s.start <= mid <= s.end:
                before = sum(p.end - p.start for p in segments[:k])
                kept.append((w.text, mid - s.start + before))
    return kept


def cut_duration(segments: Sequence[Span]) -> float:
    return sum(s.end - s.start for s in segments)


def srt_cues(text: str) -> list[tuple[int, int, list[str]]]:
    subs = pysubs2.SSAFile.from_string(text, format_="srt")
    return [(e.start, e.end, e.plaintext.split("\n")) for e in subs]


def vtt_cues(text: str) -> list[tuple[int, int, list[str]]]:
    return [
        (
            c.start_time.in_milliseconds(),
            c.end_time.in_milliseconds(),
            [html.unescape(line) for line in c.lines],
        )
        for c in webvtt.from_string(text).captions
    ]


READERS = {"srt": srt_cues, "vtt": vtt_cues}


def check_cues(
    cues: list[tuple[int, int, list[str]]],
    kept: list[tuple[str, float]],
    duration: float,
) -> None:
    assert [w for _, _, lines in cues for line in lines for w in line.split()] == [
        text for text, _ in kept
    ]
    previous_end = 0
    remaining = list(kept)
    for start, end, lines in cues:
        assert previous_end <= start <= end <= math.ceil(duration * 1000)
        previous_end = end
        assert 1 <= len(lines) <= 2
        assert all(0 < len(line) <= 42 for line in lines)
        for _ in " ".join(lines).split():
            _, t = remaining.pop(0)
            assert start - 1 <= t * 1000 <= end + 1
        assert end - start <= 7000


@pytest.mark.parametrize("fmt", SUBTITLE_FORMATS)
def test_subtitles_hold_the_kept_words_in_time(fmt: str) -> None:
    text, media_type = export_subtitles(WORDS, TALK_SEGMENTS, fmt)
    assert media_type == SUBTITLE_FORMATS[fmt]
    cues = READERS[fmt](text)
    kept = kept_words(WORDS, TALK_SEGMENTS)
    assert "um" not in [w for w, _ in kept] and "sorry," not in [w for w, _ in kept]
    check_cues(cues, kept, cut_duration(TALK_SEGMENTS))
    texts = [" ".join(lines) for _, _, lines in cues]
    # A sentence ends a cue; one spanning two cuts stays together; a long pause breaks one.
    assert texts == [
        "Welcome to the talk.",
        "Today we look at how cutting works how editing works in practice.",
        "It is a long sentence that goes on and on without any stop at all for",
        "quite a while and then some more words after a long pause.",
    ]


@pytest.mark.parametrize("fmt", SUBTITLE_FORMATS)
def test_a_long_monologue_is_split_by_length_and_time(fmt: str) -> None:
    words = words_of(" ".join(["a"] * 60), 0.0, step=0.5, length=0.4)
    words += words_of("extraordinarily incomprehensibilities notwithstanding", 31.0, step=1.0)
    segments = [Span(0.0, 40.0)]
    cues = READERS[fmt](export_subtitles(words, segments, fmt)[0])
    check_cues(cues, kept_words(words, segments), 40.0)
    assert len(cues) >= 60 * 0.5 / 7  # 30 s of "a" needs at least five cues of 7 s


@pytest.mark.parametrize("fmt", SUBTITLE_FORMATS)
def test_no_words_or_no_segments_give_an_empty_file(fmt: str) -> None:
    for words, segments in (([], TALK_SEGMENTS), (WORDS, []), ([], [])):
        text, _ = export_subtitles(words, segments, fmt)
        assert READERS[fmt](text) == []


MARKUP = [Word("R&D", 0.0, 0.4), Word("<b>{bold}</b>", 0.5, 0.9), Word("-->", 1.0, 1.2)]


def test_markup_in_words_is_text_in_webvtt() -> None:
    cues = vtt_cues(export_subtitles(MARKUP, [Span(0.0, 2.0)], "vtt")[0])
    assert [line for _, _, lines in cues for line in lines] == ["R&D <b>{bold}</b> -->"]


def test_srt_has_no_escapes_and_gets_words_as_they_are() -> None:
    text = export_subtitles(MARKUP, [Span(0.0, 2.0)], "srt")[0]
    assert text.splitlines()[2] == "R&D <b>{bold}</b> -->"


@pytest.mark.parametrize("fmt", SUBTITLE_FORMATS)
def test_subtitles_of_a_thousand_segments(fmt: str) -> None:
    words: list[Word] = []
    for i in range(1000):
        words += words_of(f"segment {i} says this.", i * 4.0 + 0.1)
        words += words_of("um dropped", i * 4.0 + 2.5)
    segments = [Span(i * 4.0, i * 4.0 + 1.6) for i in range(1000)]
    cues = READERS[fmt](export_subtitles(words, segments, fmt)[0])
    kept = kept_words(words, segments)
    assert len(kept) == 4000
    check_cues(cues, kept, cut_duration(segments))
