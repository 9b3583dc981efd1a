"""Measure a media file from its bytes: container, streams, duration.

PyAV (the FFmpeg libraries) runs in a child process for each probe: a decoder that crashes on
hostile input takes down only that child, and the API process never carries the libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Any

from roughy.media.inputs import MediaInput, pyav_options, scrubbed, target

PROBE_TIMEOUT_SECONDS = 300


class UnreadableMedia(Exception):
    """The file cannot be opened or decoded as media."""


@dataclass(frozen=True)
class Probe:
    container: str
    duration_ms: int
    has_audio: bool
    has_video: bool
    frame_rate: float | None = None  # of the first video stream, frames per second


@dataclass(frozen=True)
class Streams:
    """What a render needs to know of its source's first video and audio streams."""

    width: int | None = None  # as displayed: rotation and pixel aspect applied
    height: int | None = None
    video_kbps: int | None = None  # None where the container does not say
    audio_kbps: int | None = None
    sample_rate: int | None = None
    channels: int | None = None


def probe(path: MediaInput) -> Probe:
    """Probe ``path`` (a file, or a URL read with Range requests) in a child process."""
    return Probe(**_in_child(path))


def streams(path: MediaInput) -> Streams:
    """The render's view of ``path``'s streams, measured in a child process (one frame decoded
    for its rotation)."""
    return Streams(**_in_child(path, "--streams"))


def _in_child(path: MediaInput, *flags: str) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "roughy.media.probe", *flags, target(path)],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise UnreadableMedia("probing took too long") from exc
    try:
        answer: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise UnreadableMedia(
            f"the prober stopped ({done.returncode}): {scrubbed(done.stderr[-500:], path)}"
        ) from None
    if "error" in answer:
        raise UnreadableMedia(str(answer["error"]))
    return answer


def probe_here(path: MediaInput) -> Probe:
    """Probe ``path`` in this process (the child's side of :func:`probe`)."""
    import av

    try:
        with av.open(
            target(path), mode="r", metadata_errors="ignore", options=pyav_options(path)
        ) as container:
            audio = [s for s in container.streams if s.type == "audio"]
            video = [
                s
                for s in container.streams
                if s.type == "video" and not (s.disposition & av.stream.Disposition.attached_pic)
            ]
            duration_ms = _duration_ms(container)
            if (audio or video) and not _reaches_its_end(
                container, (audio or video)[0], duration_ms
            ):
                raise UnreadableMedia("the file ends before its media does (is it truncated?)")
            return Probe(
                container=container.format.name,
                duration_ms=duration_ms,
                has_audio=bool(audio),
                has_video=bool(video),
                frame_rate=_frame_rate(video[0]) if video else None,
            )
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise UnreadableMedia(scrubbed(str(exc), path)) from exc


def streams_here(path: MediaInput) -> Streams:
    """The child's side of :func:`streams`."""
    import av

    try:
        with av.open(
            target(path), mode="r", metadata_errors="ignore", options=pyav_options(path)
        ) as container:
            audio: Any = next((s for s in container.streams if s.type == "audio"), None)
            video: Any = next(
                (
                    s
                    for s in container.streams
                    if s.type == "video"
                    and not (s.disposition & av.stream.Disposition.attached_pic)
                ),
                None,
            )
            width, height = _displayed(container, video) if video else (None, None)
            return Streams(
                width=width,
                height=height,
                video_kbps=_kbps(video),
                audio_kbps=_kbps(audio),
                sample_rate=audio.sample_rate if audio else None,
                channels=audio.channels if audio else None,
            )
    except (av.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise UnreadableMedia(scrubbed(str(exc), path)) from exc


def _displayed(container: Any, video: Any) -> tuple[int, int]:
    """The picture's size as a player shows it: pixel aspect applied, a quarter turn swapped."""
    width, height = video.width, video.height
    sar = video.sample_aspect_ratio
    if sar and sar > 0 and sar != 1:
        width = round(width * sar)
    frame = next(container.decode(video))
    if round(abs(getattr(frame, "rotation", 0) or 0)) % 180 == 90:
        width, height = height, width
    return int(width), int(height)


def _kbps(stream: Any) -> int | None:
    rate = stream.bit_rate if stream is not None else None
    return round(rate / 1000) if rate else None


def _frame_rate(stream: Any) -> float | None:
    """The nominal rate: the average, unless frames were left out of a steady grid (a
    variable-rate recording, whose timestamps still sit on its nominal rate: ``base_rate``)."""
    average, base = stream.average_rate, stream.base_rate
    if average and base and average < base <= MAX_NOMINAL_FPS and _is_nominal(float(base)):
        return float(base)
    rate = average or base or stream.guessed_rate
    return float(rate) if rate else None


MAX_NOMINAL_FPS = 240


def _is_nominal(fps: float) -> bool:
    """A whole rate (25, 30) or an NTSC one (29.97)."""
    return abs(fps - round(fps)) < 0.005 or abs(fps * 1.001 - round(fps * 1.001)) < 0.01


def _reaches_its_end(container: Any, stream: Any, duration_ms: int) -> bool:
    """Whether packets exist near the end the index promises (one seek, whatever the size).

    A file cut short keeps its index at the front (an MP4 with faststart): the header says ten
    minutes, the bytes hold five. Where a format cannot seek, nothing can be told: True.
    """
    import av

    if stream.time_base is None or duration_ms < 1000:
        return True
    target = int((duration_ms - 500) / 1000 / stream.time_base)
    try:
        container.seek(target, stream=stream, backward=True, any_frame=False)
        for seen, packet in enumerate(container.demux(stream)):
            if packet.size and packet.pts is not None:
                return True
            if seen > 100:
                return False
    except av.FFmpegError:
        return True
    return False


def _duration_ms(container: Any) -> int:
    import av

    if container.duration is not None and container.duration > 0:
        header_ms: int = round(container.duration * 1000 / av.time_base)
        return header_ms
    longest = 0.0
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            longest = max(longest, float(stream.duration * stream.time_base))
    if longest > 0:
        return round(longest * 1000)
    return _decode_duration_ms(container)


def _decode_duration_ms(container: Any) -> int:
    """Last resort for streams without a header duration: read packet timestamps to the end."""
    end = 0.0
    for packet in container.demux():
        if packet.pts is not None and packet.time_base is not None:
            stop = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            end = max(end, stop)
    return round(end * 1000)


# Where the first chunk guessed wrong, the real streams decide (an isom MP4 holding only sound).
_AS_AUDIO = {
    "video/mp4": ("audio/mp4", "m4a"),
    "video/x-m4v": ("audio/mp4", "m4a"),
    "video/x-matroska": ("audio/x-matroska", "mka"),
    "video/webm": ("audio/webm", "webm"),
    "video/3gpp": ("audio/3gpp", "3gp"),
    "video/x-flv": ("audio/x-flv", "flv"),
    "video/x-ms-asf": ("audio/x-ms-wma", "wma"),
    "video/x-ms-wmv": ("audio/x-ms-wma", "wma"),
    "video/ogg": ("audio/ogg", "ogg"),
}
_AS_VIDEO = {
    "audio/mp4": ("video/mp4", "mp4"),
    "audio/x-matroska": ("video/x-matroska", "mkv"),
    "audio/webm": ("video/webm", "webm"),
    "audio/3gpp": ("video/3gpp", "3gp"),
    "audio/x-flv": ("video/x-flv", "flv"),
    "audio/x-ms-wma": ("video/x-ms-wmv", "wmv"),
    "audio/ogg": ("video/ogg", "ogv"),
}


def retyped(content_type: str, extension: str, is_video: bool) -> tuple[str, str]:
    """The content type and extension that fit what the streams really hold."""
    table = _AS_VIDEO if is_video else _AS_AUDIO
    return table.get(content_type, (content_type, extension))


def _main(argv: list[str]) -> int:
    try:
        if argv[1] == "--streams":
            answer: dict[str, Any] = asdict(streams_here(argv[2]))
        else:
            answer = asdict(probe_here(argv[1]))
    except UnreadableMedia as exc:
        answer = {"error": str(exc)}
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv))
