"""Measure a media file from its bytes: container, streams, duration.

PyAV (the FFmpeg libraries) runs in a child process for each probe: a decoder that crashes on
hostile input takes down only that child, and the API process never carries the libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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


def probe(path: Path) -> Probe:
    """Probe ``path`` in a child process."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "roughy.media.probe", str(path)],
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
            f"the prober stopped ({done.returncode}): {done.stderr[-500:]}"
        ) from None
    if "error" in answer:
        raise UnreadableMedia(str(answer["error"]))
    return Probe(**answer)


def probe_here(path: Path) -> Probe:
    """Probe ``path`` in this process (the child's side of :func:`probe`)."""
    import av

    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
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
        raise UnreadableMedia(str(exc)) from exc


def _frame_rate(stream: Any) -> float | None:
    rate = stream.average_rate or stream.base_rate or stream.guessed_rate
    return float(rate) if rate else None


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
        answer: dict[str, Any] = asdict(probe_here(Path(argv[1])))
    except UnreadableMedia as exc:
        answer = {"error": str(exc)}
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv))
