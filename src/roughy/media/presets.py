"""What a render may be asked for, as data: containers and codecs, resolution tiers, bitrate
ladders. The render plan reads these tables; nothing else in the engine names a format."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Container:
    muxer: str  # ffmpeg's -f
    extension: str
    content_type: str
    video: bool  # carries a picture (H.264) beside the sound
    audio_codec: str  # ffmpeg encoder
    sample_rates: tuple[int, ...]  # the encoder's rates; the source's is kept when listed
    flags: tuple[str, ...] = ()


# AAC: only the full rates. MP4 keeps the encoder's padding at the end of the sound (the edit
# list hides only the priming at its start): one frame of 1024 samples at most, 21 ms at 48 kHz
# but 64 ms at 16 kHz, more than a video frame. A lower source rate is resampled to 48 kHz.
_AAC_RATES = (44100, 48000)
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_FASTSTART = ("-movflags", "+faststart")  # the index first: plays while it downloads

FORMATS: dict[str, Container] = {
    "mp4": Container("mp4", "mp4", "video/mp4", True, "aac", _AAC_RATES, _FASTSTART),
    "mov": Container("mov", "mov", "video/quicktime", True, "aac", _AAC_RATES, _FASTSTART),
    "m4a": Container("ipod", "m4a", "audio/mp4", False, "aac", _AAC_RATES, _FASTSTART),
    "mp3": Container("mp3", "mp3", "audio/mpeg", False, "libmp3lame", _MP3_RATES),
}

# A tier names the shorter edge of the picture, in pixels.
TIERS: dict[str, int] = {"720p": 720, "1080p": 1080, "4k": 2160}

# Auto video bitrate by the output's shorter edge (kbit/s): the first row that holds it.
VIDEO_LADDER: tuple[tuple[int, int], ...] = (
    (360, 1_000),
    (480, 2_500),
    (720, 5_000),
    (1080, 8_000),
    (1440, 16_000),
    (2160, 35_000),
)
VIDEO_LADDER_TOP = 50_000
AUDIO_AUTO_KBPS = 192
FALLBACK_SAMPLE_RATE = 48_000
MAX_CHANNELS = 2

# H.264: quality first (CRF), never above the bitrate cap (VBV), a keyframe every 2 s.
X264_PRESET = "veryfast"
X264_CRF = 20
GOP_SECONDS = 2


def auto_video_kbps(short_edge: int) -> int:
    for edge, kbps in VIDEO_LADDER:
        if short_edge <= edge:
            return kbps
    return VIDEO_LADDER_TOP
