"""What a media tool (PyAV, ffmpeg) is given to read: a local file, or an HTTP(S) URL.

FFmpeg's http protocol reads a URL with Range requests and seeks with a new one, so a tool
given the presigned URL of an object in S3 reads only the bytes it needs (a probe: the header
and a packet near the end) and never waits for a whole copy. A URL carries its signature in the
query string: :func:`shown` and :func:`scrubbed` keep it out of messages and logs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

MediaInput = Path | str  # a local file, or an http(s) URL that serves Range requests

# How long a tool waits on the network for one read before it gives up (microseconds, as
# FFmpeg counts): a stalled store fails the job, which is retried, rather than hanging it.
NETWORK_TIMEOUT_US = 60_000_000


def is_url(source: MediaInput) -> bool:
    return isinstance(source, str) and source.startswith(("http://", "https://"))


def target(source: MediaInput) -> str:
    """The string a tool opens."""
    return source if isinstance(source, str) else str(source)


def shown(source: MediaInput) -> str:
    """A name for messages: a file's name, a URL without its query (the signature)."""
    if not is_url(source):
        return Path(source).name
    parts = urlsplit(str(source))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def scrubbed(text: str, source: MediaInput) -> str:
    """``text`` (a tool's message) with the URL's signature left out."""
    return text.replace(str(source), shown(source)) if is_url(source) else text


def ffmpeg_input_options(source: MediaInput) -> list[str]:
    """ffmpeg's options for reading ``source`` (before its ``-i``): on a URL, reconnect after a
    dropped connection and give up on a stall."""
    if not is_url(source):
        return []
    return [
        "-reconnect", "1", "-reconnect_on_network_error", "1", "-reconnect_delay_max", "30",
        "-rw_timeout", str(NETWORK_TIMEOUT_US),
    ]  # fmt: skip


def pyav_options(source: MediaInput) -> dict[str, str]:
    """PyAV's (FFmpeg's) options for opening ``source``."""
    if not is_url(source):
        return {}
    return {
        "reconnect": "1",
        "reconnect_on_network_error": "1",
        "rw_timeout": str(NETWORK_TIMEOUT_US),
    }
