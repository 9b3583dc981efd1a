"""The render engine (roughy.media.render) on real media that says where it came from
(tests/media/timecoded.py): the command it builds, then real renders decoded frame by frame and
sample by sample."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import av
import pytest

from roughy.media import ffmpeg as encoder
from roughy.media import render as engine
from roughy.media.render import Output, Plan, Source
from roughy.speech.types import Span
from tests.conftest import ffmpeg
from tests.media import timecoded as tc

FFMPEG = encoder.binary()
# Many short spans at irregular places, none touching: 40 joins.
MANY = [Span(0.31 + i * 0.83, 0.31 + i * 0.83 + 0.29 + 0.017 * (i % 7)) for i in range(41)]


# --- the plan and the command, pure ---------------------------------------------------------

SOURCE = Source(duration=60.0, frame_rate=25.0, width=1920, height=1080, video_kbps=6000,
                audio_kbps=128, sample_rate=48000, channels=2)  # fmt: skip


@pytest.mark.parametrize(
    ("width", "height", "resolution", "size"),
    [
        (1920, 1080, "720p", (1280, 720)),  # the shorter edge at the tier
        (1080, 1920, "720p", (720, 1280)),  # portrait stays portrait
        (1920, 1080, "1080p", (1920, 1080)),
        (1920, 1080, "4k", (1920, 1080)),  # never upscaled
        (640, 360, "1080p", (640, 360)),
        (641, 361, None, (640, 360)),  # odd sizes made even, never padded
        (1280, 960, "720p", (960, 720)),  # 4:3 kept
        (1440, 1080, "720p", (960, 720)),
        (2560, 1080, "720p", (1706, 720)),  # 64:27, the long edge rounded to even
    ],
)
def test_a_tier_scales_the_shorter_edge_keeps_the_aspect_and_never_upscales(
    width: int, height: int, resolution: str | None, size: tuple[int, int]
) -> None:
    source = Source(duration=10.0, frame_rate=25.0, width=width, height=height)
    assert engine.plan(source, None, Output("mp4", resolution)).size == size


@pytest.mark.parametrize(
    ("output", "video_kbps", "audio_kbps"),
    [
        (Output("mp4"), 6000, 128),  # Auto at 1080p is 8 Mbps: capped at the source's 6
        (Output("mp4", "720p"), 5000, 128),  # Auto at 720p
        (Output("mp4", "720p", video_mbps=50, audio_kbps=320), 6000, 128),  # capped
        (Output("mov", "720p", video_mbps=5, audio_kbps=128), 5000, 128),
        (Output("m4a", audio_kbps=256), None, 128),
        (Output("mp3"), None, 128),
    ],
)
def test_bitrates_follow_the_ladder_and_never_pass_the_source(
    output: Output, video_kbps: int | None, audio_kbps: int
) -> None:
    p = engine.plan(SOURCE, MANY, output)
    assert (p.video_kbps, p.audio_kbps) == (video_kbps, audio_kbps)


def test_mp3_bitrates_are_ones_lame_takes() -> None:
    source = Source(duration=10.0, audio_kbps=70, sample_rate=22050, channels=1)
    p = engine.plan(source, None, Output("mp3", audio_kbps=320))
    assert (p.audio_kbps, p.sample_rate, p.channels) == (64, 22050, 1)


def test_aac_sound_is_at_least_44_1_khz_so_its_end_padding_stays_under_a_frame() -> None:
    """MP4 keeps AAC's last-frame padding (1024 samples): 64 ms at 16 kHz, 21 ms at 48 kHz."""
    source = Source(duration=10.0, frame_rate=25.0, width=320, height=240, sample_rate=16000)
    assert engine.plan(source, None, Output("mp4")).sample_rate == 48000
    assert engine.plan(source, None, Output("m4a")).sample_rate == 48000
    assert engine.plan(source, None, Output("mp3")).sample_rate == 16000  # LAME's tag trims it
    assert engine.plan(SOURCE, None, Output("mp4")).sample_rate == 48000


def test_the_command_for_two_spans() -> None:
    """The whole argv and filter graph, as a table of what each part is for."""
    source = Source(duration=10.0, frame_rate=25.0, width=640, height=480, video_kbps=900,
                    audio_kbps=96, sample_rate=48000, channels=1)  # fmt: skip
    p = engine.plan(source, [Span(1.01, 2.0), Span(5.0, 5.5)], Output("mp4"))
    assert p.rate == 25 and p.frames == 25 + 13
    ranges = [(x.frames.source_start, x.frames.source_end) for x in p.pieces]
    assert ranges == [(25, 50), (125, 138)]
    assert [(x.first_sample, x.end_sample) for x in p.pieces] == [(48000, 96000), (240000, 264960)]
    assert engine.filter_script(p).splitlines() == [
        "[0:v:0]fps=fps=25:start_time=0,split=2[v0][v1];",
        "[v0]trim=start_frame=25:end_frame=50,setpts=PTS-STARTPTS[t0];",
        "[v1]trim=start_frame=125:end_frame=138,setpts=PTS-STARTPTS[t1];",
        "[0:a:0]aresample=48000:async=1:first_pts=0,asplit=2[a0][a1];",
        "[a0]atrim=start_sample=48000:end_sample=96000,asetpts=N/SR/TB,"
        "afade=t=out:start_sample=47760:nb_samples=240[u0];",
        "[a1]atrim=start_sample=240000:end_sample=264960,asetpts=N/SR/TB,"
        "afade=t=in:start_sample=0:nb_samples=240[u1];",
        "[t0][u0][t1][u1]concat=n=2:v=1:a=1[vc][aout];",
        "[vc]scale=640:480:flags=bicubic,setsar=1,format=yuv420p[vout]",
    ]
    argv = engine.command("ffmpeg", Path("in.mov"), Path("graph"), Path("out"), p)
    assert " ".join(argv) == (
        "ffmpeg -hide_banner -nostdin -loglevel error -y -i in.mov -/filter_complex graph "
        "-map [vout] -c:v libx264 -preset veryfast -crf 20 -maxrate 900k -bufsize 1800k "
        "-profile:v high -pix_fmt yuv420p -g 50 "
        "-map [aout] -c:a aac -b:a 96k -ar 48000 -ac 1 -map_metadata -1 -map_chapters -1 "
        "-movflags +faststart -progress pipe:1 -nostats -stats_period 0.5 -f mp4 out"
    )


def test_29_97_fps_samples_are_carried_so_the_sound_never_drifts() -> None:
    source = Source(duration=600.0, frame_rate=29.97, width=640, height=360)
    spans = [Span(i * 3.7, i * 3.7 + 1.234) for i in range(150)]
    p = engine.plan(source, spans, Output("mp4"))
    assert p.rate == Fraction(30000, 1001)
    # Every piece's sound is as long as its pictures, the rounding carried: the total is exact.
    assert sum(x.samples for x in p.pieces) == round(p.frames * 48000 / p.rate)


def test_a_lower_frame_rate_is_the_grid_a_higher_one_is_not() -> None:
    assert engine.plan(SOURCE, None, Output("mp4", frame_rate=10)).rate == 10
    assert engine.plan(SOURCE, None, Output("mp4", frame_rate=120)).rate == 25


def test_a_picture_format_needs_a_picture() -> None:
    with pytest.raises(ValueError, match="picture"):
        engine.plan(Source(duration=5.0), None, Output("mp4"))


# --- real renders ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def numbered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 s of numbered 320x240 pictures at 25 fps with the sweep, H.264 + AAC."""
    return tc.make(tmp_path_factory.mktemp("render") / "numbered.mp4", seconds=36)


def _render(source: Path, spans: list[Span] | None, output: Output, target: Path) -> Plan:
    return engine.render(source, spans, output, target, ffmpeg=FFMPEG)


def _expected_frames(p: Plan) -> list[int]:
    return [x.frames.source_start + k for x in p.pieces for k in range(x.frames.length)]


def _worst_sync(p: Plan, out: tc.Decoded) -> tuple[float, int]:
    """The largest gap between where the sound says it is and where the pictures put it, and
    how many places were measured (every 40 ms of every piece, away from its joins)."""
    worst, measured = 0.0, 0
    for x in p.pieces:
        start = float(x.frames.record_start / p.rate)
        end = float(x.frames.record_end / p.rate)
        source_start = float(x.frames.source_start / p.rate)
        at = start + 0.015
        while at < end - 0.015:
            phase = tc.sweep_phase(out.audio, out.sample_rate, at)
            if phase is not None:
                worst = max(worst, tc.circular_gap(phase, (source_start + at - start) % 1))
                measured += 1
            at += 0.04
    return worst, measured


def _joins(p: Plan, sample_rate: int) -> list[int]:
    return [round(x.frames.record_start / p.rate * sample_rate) for x in p.pieces[1:]]


@pytest.mark.parametrize("fmt", ["mp4", "mov", "m4a", "mp3"])
def test_each_format_holds_exactly_the_spans_in_sync_without_clicks(
    fmt: str, numbered: Path, tmp_path: Path
) -> None:
    target = tmp_path / f"out.{fmt}"
    p = _render(numbered, MANY, Output(fmt), target)
    out = tc.decode(target)
    frame = 1 / 25
    with av.open(str(target)) as container:
        codecs = {s.type: s.codec_context.name for s in container.streams}
        pix_fmt = container.streams.video[0].codec_context.pix_fmt if p.size else None
    if fmt in ("mp4", "mov"):
        assert codecs == {"video": "h264", "audio": "aac"} and pix_fmt == "yuv420p"
        # Every output frame is the right source frame, in order: frame-accurate at 40 joins.
        assert out.frames == _expected_frames(p)
        assert out.rate == 25 and out.size == (320, 240)
        assert abs(out.video_end - out.audio_end) <= frame  # A/V offset at the end
        assert target.read_bytes()[:64].find(b"moov") > 0  # faststart: the index first
    else:
        assert codecs == {"audio": "aac" if fmt == "m4a" else "mp3float"}
    assert abs(len(out.audio) / out.sample_rate - p.duration) <= frame
    worst, measured = _worst_sync(p, out)
    assert measured > 300 and worst <= 0.005, worst  # the sound is where the pictures are
    joins = _joins(p, out.sample_rate)
    assert tc.largest_jump(out.audio, joins, 8) <= tc.inside_jump(out.audio, joins, 600)


def test_without_spans_the_whole_source_is_rendered(numbered: Path, tmp_path: Path) -> None:
    target = tmp_path / "whole.mp4"
    p = _render(numbered, None, Output("mp4"), target)
    out = tc.decode(target)
    assert out.frames == list(range(36 * 25)) and p.duration == 36.0


def _landscape_and_portrait(tmp: Path) -> dict[str, Path]:
    return {
        "landscape": tc.make(tmp / "land.mp4", seconds=2, size="1280x960"),
        "portrait": tc.make(tmp / "port.mp4", seconds=2, size="960x1280"),
        # stored landscape, shown a quarter turn round (a phone held upright)
        "rotated": tc.turned(
            tc.make(tmp / "wide.mp4", seconds=2, size="1280x960"), tmp / "rot.mp4"
        ),
    }


@pytest.mark.parametrize(
    ("shape", "resolution", "size", "turn"),
    [
        ("landscape", "720p", (960, 720), 0),
        ("landscape", "4k", (1280, 960), 0),
        ("portrait", "720p", (720, 960), 0),
        ("rotated", "720p", (720, 960), -1),
        ("rotated", None, (960, 1280), -1),
    ],
)
def test_tiers_on_landscape_portrait_and_rotated_sources(
    shape: str,
    resolution: str | None,
    size: tuple[int, int],
    turn: int,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> None:
    sources = _shapes(tmp_path_factory)
    target = tmp_path / "out.mp4"
    p = _render(sources[shape], [Span(0.2, 0.6), Span(1.0, 1.4)], Output("mp4", resolution), target)
    out = tc.decode(target, turn=turn)
    assert out.size == size and p.size == size
    assert out.rotation == 0  # upright in its pixels, nothing left for a player to turn
    assert out.frames == _expected_frames(p)  # the picture turned, not just relabelled


_SHAPES: dict[str, Path] = {}


def _shapes(factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not _SHAPES:
        _SHAPES.update(_landscape_and_portrait(factory.mktemp("shapes")))
    return _SHAPES


def test_bitrates_are_capped_at_the_sources(tmp_path: Path) -> None:
    source = tc.make(
        tmp_path / "thin.mp4", seconds=8, size="640x480",
        extra=("-b:v", "250k", "-maxrate", "250k", "-bufsize", "500k", "-b:a", "64k"),
    )  # fmt: skip
    target = tmp_path / "out.mp4"
    p = _render(source, None, Output("mp4", video_mbps=50, audio_kbps=320), target)
    with av.open(str(source)) as src, av.open(str(target)) as out:
        src_v, src_a = src.streams.video[0].bit_rate, src.streams.audio[0].bit_rate
        out_v, out_a = out.streams.video[0].bit_rate, out.streams.audio[0].bit_rate
    assert p.video_kbps is not None and p.video_kbps * 1000 <= src_v * 1.01
    assert out_v <= src_v * 1.1  # the encoder's average, within its buffer's give
    assert out_a <= src_a * 1.1


def test_a_variable_rate_source_comes_out_at_its_nominal_constant_rate(tmp_path: Path) -> None:
    """Every fifth frame of a 25 fps recording dropped (average 20 fps, timestamps of 25)."""
    source = tc.make(
        tmp_path / "vfr.mp4", seconds=6,
        extra=("-vf", "select='not(eq(mod(n\\,5)\\,4))'", "-fps_mode", "vfr"),
    )  # fmt: skip
    with av.open(str(source)) as container:
        assert Fraction(container.streams.video[0].average_rate) < 24  # really variable
    target = tmp_path / "out.mp4"
    p = _render(source, [Span(1.0, 2.0), Span(3.0, 4.2)], Output("mp4"), target)
    out = tc.decode(target)
    assert p.rate == 25 and out.rate == 25 and len(out.frames) == p.frames == 55
    steps = {round(b - a, 4) for a, b in zip(out.frame_times, out.frame_times[1:], strict=False)}
    assert steps == {0.04}  # constant rate
    # A dropped frame is stood in for by its neighbour; none comes from elsewhere.
    expected = _expected_frames(p)
    assert all(abs(got - want) <= 1 for got, want in zip(out.frames, expected, strict=True))


def test_a_lower_frame_rate_is_rendered_on_its_own_grid(numbered: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    p = _render(numbered, [Span(2.0, 4.0)], Output("mp4", frame_rate=10), target)
    out = tc.decode(target)
    assert out.rate == 10 and len(out.frames) == p.frames == 20
    assert all(abs(f - (50 + k * 2.5)) <= 1.5 for k, f in enumerate(out.frames))


def test_a_sound_only_source(tmp_path: Path) -> None:
    source = tc.make(tmp_path / "talk.m4a", seconds=10, video=False)
    target = tmp_path / "out.mp3"
    p = _render(source, [Span(1.0, 3.0), Span(5.0, 6.0)], Output("mp3"), target)
    out = tc.decode(target)
    assert p.size is None and p.rate == 25
    assert abs(len(out.audio) / out.sample_rate - 3.0) <= 0.04
    worst, measured = _worst_sync(p, out)
    assert measured > 40 and worst <= 0.005


def test_stopping_kills_the_encoder(numbered: Path, tmp_path: Path) -> None:
    """Asked to stop, the render stops its encoder (SIGTERM, SIGKILL a second later; asked
    every half second: within 2 s by construction) and says so; the encoder is gone when it
    returns: the file it was writing no longer grows."""
    long_source = tmp_path / "long.mp4"
    ffmpeg("-stream_loop", "20", "-i", str(numbered), "-c", "copy", str(long_source))
    target = tmp_path / "out.mp4"
    progress: list[float] = []

    def should_stop() -> bool:
        return bool(progress) and progress[-1] > 0.01

    with pytest.raises(encoder.Stopped):
        engine.render(
            long_source, None, Output("mp4"), target, ffmpeg=FFMPEG,
            on_progress=progress.append, should_stop=should_stop,
        )  # fmt: skip
    assert 0 < max(progress) < 1
    assert not list(tmp_path.glob("*.ffscript"))
    size = target.stat().st_size if target.exists() else 0
    time.sleep(1.0)
    assert (target.stat().st_size if target.exists() else 0) == size  # nothing writes any more
