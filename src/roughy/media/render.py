"""The render plan: a source, the cut's kept spans and the output asked for, turned into one
ffmpeg command (pure functions; ``roughy.media.ffmpeg`` runs it).

One decode of the source, one filter graph: the picture is first made constant-rate on the
output's frame grid (``fps``, padding the start so frame n is time n/rate), the sound resampled
with its gaps filled (``aresample``, first sample at 0); each kept range is then cut on that
grid, the picture by frame numbers and the sound by sample numbers, and the pieces joined
(``concat``). Every join is on a frame boundary, and each piece's sound is as long as its
pictures to the sample, the rounding carried from piece to piece, so sound and picture never
drift apart however many joins there are. The sound fades out and in over a few milliseconds
at each join (none at the very start and end), so a cut is never a click. Spans are placed on
frames by ``roughy.timelines.frames``, the same ranges as the editing timelines, so a render and
its EDL agree frame for frame; spans that touch in the source are one piece (no fade inside
continuous sound).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from roughy.media import inputs, presets
from roughy.media.inputs import MediaInput, ffmpeg_input_options
from roughy.media.presets import Container
from roughy.speech.types import Span
from roughy.timelines.frames import FrameRange, SourceMedia, exact_rate, frame_ranges

FADE_SECONDS = 0.005
# MPEG-1 Layer III bitrates (kbit/s): LAME takes only these.
MP3_KBPS = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


class NothingToRender(ValueError):
    """The spans keep nothing of the source."""


@dataclass(frozen=True)
class Source:
    """The recording, as measured (``roughy.media.probe``)."""

    duration: float  # seconds
    frame_rate: float | None = None  # None: no picture
    width: int | None = None  # as displayed (rotation applied)
    height: int | None = None
    video_kbps: int | None = None
    audio_kbps: int | None = None
    sample_rate: int = presets.FALLBACK_SAMPLE_RATE
    channels: int = 2

    @property
    def has_video(self) -> bool:
        return self.frame_rate is not None and bool(self.width) and bool(self.height)


@dataclass(frozen=True)
class Output:
    """What was asked for; None is Auto (the source's size, the ladder's bitrate)."""

    format: str
    resolution: str | None = None
    video_mbps: int | None = None
    audio_kbps: int | None = None
    frame_rate: int | None = None


@dataclass(frozen=True)
class Piece:
    """One kept range: source frames on the output's grid, and the source samples that go
    with them (as many as the pictures last, to the sample)."""

    frames: FrameRange
    first_sample: int
    end_sample: int

    @property
    def samples(self) -> int:
        return self.end_sample - self.first_sample


@dataclass(frozen=True)
class Plan:
    container: Container
    rate: Fraction  # the output's frame grid (for a sound-only source, the 25 fps timeline)
    pieces: tuple[Piece, ...]
    size: tuple[int, int] | None  # the output picture; None: sound only
    video_kbps: int | None
    audio_kbps: int
    sample_rate: int
    channels: int
    fade_samples: int

    @property
    def frames(self) -> int:
        return sum(p.frames.length for p in self.pieces)

    @property
    def duration(self) -> float:
        """Seconds of output: whole frames of the grid."""
        return float(self.frames / self.rate)


def plan(source: Source, spans: Sequence[Span] | None, output: Output) -> Plan:
    """The render of ``spans`` of ``source`` (None: all of it) as ``output`` asks."""
    container = presets.FORMATS[output.format]
    if container.video and not source.has_video:
        raise ValueError(f"{output.format} needs a picture; the source has none")
    rate = _rate(source, output)
    timeline = SourceMedia(
        name="source",
        target_url="/source",
        duration=source.duration,
        frame_rate=float(rate),
        has_video=source.frame_rate is not None,
    )
    whole = [Span(0.0, source.duration)]
    ranges = frame_ranges(list(spans) if spans is not None else whole, timeline)
    if not ranges:
        raise NothingToRender("the cut keeps nothing of the source")
    sample_rate = _sample_rate(source, container)
    size = _size(source, output.resolution) if container.video else None
    return Plan(
        container=container,
        rate=timeline.rate,
        pieces=tuple(_pieces(ranges, timeline.rate, sample_rate)),
        size=size,
        video_kbps=_video_kbps(source, output, size) if size else None,
        audio_kbps=_audio_kbps(source, output, container),
        sample_rate=sample_rate,
        channels=max(1, min(source.channels, presets.MAX_CHANNELS)),
        fade_samples=round(FADE_SECONDS * sample_rate),
    )


def _rate(source: Source, output: Output) -> Fraction:
    """The source's nominal rate, or the rate asked for when that is lower."""
    if source.frame_rate is None:
        return Fraction(25)  # not used: a sound-only timeline runs at 25 fps
    nominal = exact_rate(source.frame_rate)
    if output.frame_rate is not None and output.frame_rate < nominal:
        return Fraction(output.frame_rate)
    return nominal


def _pieces(ranges: Sequence[FrameRange], rate: Fraction, sample_rate: int) -> list[Piece]:
    def sample_at(frame: int) -> int:
        return round(frame * sample_rate / rate)

    pieces = []
    for r in ranges:
        length = sample_at(r.record_end) - sample_at(r.record_start)
        first = sample_at(r.source_start)
        pieces.append(Piece(r, first, first + length))
    return pieces


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _size(source: Source, resolution: str | None) -> tuple[int, int]:
    """The shorter edge at the tier (never above the source's), the aspect kept, both even."""
    width, height = source.width or 2, source.height or 2
    short = min(width, height)
    target = min(presets.TIERS[resolution], short) if resolution else short
    if target == short:
        return (width // 2 * 2 or 2, height // 2 * 2 or 2)
    if width >= height:
        return (_even(width * target / height), target // 2 * 2)
    return (target // 2 * 2, _even(height * target / width))


def _video_kbps(source: Source, output: Output, size: tuple[int, int]) -> int:
    wanted = output.video_mbps * 1000 if output.video_mbps else presets.auto_video_kbps(min(size))
    return min(wanted, source.video_kbps) if source.video_kbps else wanted


def _audio_kbps(source: Source, output: Output, container: Container) -> int:
    wanted = output.audio_kbps or presets.AUDIO_AUTO_KBPS
    kbps = max(32, min(wanted, source.audio_kbps) if source.audio_kbps else wanted)
    if container.audio_codec == "libmp3lame":
        return max(k for k in MP3_KBPS if k <= kbps)
    return kbps


def _sample_rate(source: Source, container: Container) -> int:
    if source.sample_rate in container.sample_rates:
        return source.sample_rate
    return presets.FALLBACK_SAMPLE_RATE


def filter_script(p: Plan) -> str:
    """The filter graph: ``[vout]`` (when there is a picture) and ``[aout]``."""
    n = len(p.pieces)
    lines = []
    if p.size is not None:
        lines.append(f"[0:v:0]fps=fps={p.rate}:start_time=0{_split('split', 'v', n)};")
        lines += [
            f"[v{i}]trim=start_frame={x.frames.source_start}:end_frame={x.frames.source_end},"
            f"setpts=PTS-STARTPTS[t{i}];"
            for i, x in enumerate(p.pieces)
        ]
    lines.append(f"[0:a:0]aresample={p.sample_rate}:async=1:first_pts=0{_split('asplit', 'a', n)};")
    lines += [
        f"[a{i}]atrim=start_sample={x.first_sample}:end_sample={x.end_sample},"
        f"asetpts=N/SR/TB{_fades(p, i)}[u{i}];"
        for i, x in enumerate(p.pieces)
    ]
    if p.size is not None:
        inputs = "".join(f"[t{i}][u{i}]" for i in range(n))
        lines.append(f"{inputs}concat=n={n}:v=1:a=1[vc][aout];")
        width, height = p.size
        lines.append(f"[vc]scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p[vout]")
    else:
        inputs = "".join(f"[u{i}]" for i in range(n))
        lines.append(f"{inputs}concat=n={n}:v=0:a=1[aout]")
    return "\n".join(lines) + "\n"


def _split(name: str, label: str, n: int) -> str:
    outs = "".join(f"[{label}{i}]" for i in range(n))
    return f",{name}={n}{outs}" if n > 1 else f"[{label}0]"


def _fades(p: Plan, i: int) -> str:
    """A fade in where a join comes before the piece, a fade out where one comes after."""
    piece = p.pieces[i]
    fade = min(p.fade_samples, piece.samples // 2)
    if fade <= 0:
        return ""
    out = ""
    if i > 0:
        out += f",afade=t=in:start_sample=0:nb_samples={fade}"
    if i < len(p.pieces) - 1:
        out += f",afade=t=out:start_sample={piece.samples - fade}:nb_samples={fade}"
    return out


def command(ffmpeg: str, source: MediaInput, script: Path, target: Path, p: Plan) -> list[str]:
    """The ffmpeg argv: ``script`` holds :func:`filter_script`; progress on stdout. The source
    is read in one pass from its start (a URL: with Range requests, reconnecting)."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    argv += [*ffmpeg_input_options(source), "-i", inputs.target(source)]
    argv += ["-/filter_complex", str(script)]
    if p.size is not None and p.video_kbps is not None:
        gop = max(1, round(p.rate * presets.GOP_SECONDS))
        argv += ["-map", "[vout]", "-c:v", "libx264", "-preset", presets.X264_PRESET]
        argv += ["-crf", str(presets.X264_CRF), "-maxrate", f"{p.video_kbps}k"]
        argv += ["-bufsize", f"{2 * p.video_kbps}k", "-profile:v", "high"]
        argv += ["-pix_fmt", "yuv420p", "-g", str(gop)]
    argv += ["-map", "[aout]", "-c:a", p.container.audio_codec, "-b:a", f"{p.audio_kbps}k"]
    argv += ["-ar", str(p.sample_rate), "-ac", str(p.channels)]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1", *p.container.flags]
    argv += ["-progress", "pipe:1", "-nostats", "-stats_period", "0.5"]
    argv += ["-f", p.container.muxer, str(target)]
    return argv


def measure(path: MediaInput) -> Source:
    """The source as the plan needs it (probed in child processes)."""
    from roughy.media.probe import probe, streams

    found, shape = probe(path), streams(path)
    has_video = found.has_video and bool(shape.width and shape.height)
    return Source(
        duration=found.duration_ms / 1000,
        frame_rate=(found.frame_rate or 25.0) if has_video else None,
        width=shape.width if has_video else None,
        height=shape.height if has_video else None,
        video_kbps=shape.video_kbps,
        audio_kbps=shape.audio_kbps,
        sample_rate=shape.sample_rate or presets.FALLBACK_SAMPLE_RATE,
        channels=shape.channels or 2,
    )


def render(
    source: MediaInput,
    spans: Sequence[Span] | None,
    output: Output,
    target: Path,
    *,
    ffmpeg: str,
    on_progress: Callable[[float], None] = lambda _: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Plan:
    """Render ``spans`` of ``source`` into ``target`` (written whole or not at all: the caller
    removes it on an error). Raises ``roughy.media.ffmpeg.Stopped`` / ``EncoderFailed``."""
    from roughy.media import ffmpeg as encoder

    the_plan = plan(measure(source), spans, output)
    with tempfile.NamedTemporaryFile(
        "w", suffix=".ffscript", dir=target.parent, delete=False
    ) as script:
        script.write(filter_script(the_plan))
    try:
        encoder.run(
            command(ffmpeg, source, Path(script.name), target, the_plan),
            total_seconds=the_plan.duration,
            on_progress=on_progress,
            should_stop=should_stop,
        )
    except encoder.EncoderFailed as exc:
        raise encoder.EncoderFailed(inputs.scrubbed(str(exc), source)) from None
    finally:
        Path(script.name).unlink(missing_ok=True)
    return the_plan
