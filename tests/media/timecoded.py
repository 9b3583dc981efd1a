"""Media that says where it came from: every frame shows its source frame number, every stretch
of sound its source time, so a test can decode a render and check what it holds.

- Picture: 12 vertical bars across the frame, bar k white when bit k of the frame number is set
  (``geq`` on the frame number N): read back from the middle row of a decoded frame.
- Sound: a sweep that rises from 500 to 3500 Hz over each second and starts again, with a
  continuous phase (no sample jumps in the source): the frequency of a short window gives the
  source time within its second to a millisecond or two; the picture tells which second.

Made with the system's ffmpeg, read back with PyAV (the project's own dependency).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from tests.conftest import ffmpeg

BITS = 12
SWEEP_LOW, SWEEP_SPAN = 500.0, 3000.0  # Hz at the start of each second, rise over the second
AMPLITUDE = 0.5
WINDOW = 1024


def video_filter(size: str, rate: str, seconds: float) -> str:
    """The lavfi source of the numbered picture."""
    bar = f"floor(X*{BITS}/W)"
    lum = f"255*mod(floor(N/pow(2\\,{bar}))\\,2)"
    picture = f"geq=lum='{lum}':cb=128:cr=128"
    return f"color=c=black:s={size}:r={rate}:d={seconds},format=yuv420p,{picture}"


def audio_filter(seconds: float, sample_rate: int = 48000) -> str:
    phase = f"{SWEEP_LOW}*t+{SWEEP_SPAN / 2}*(floor(t)+pow(t-floor(t)\\,2))"
    return f"aevalsrc='{AMPLITUDE}*sin(2*PI*({phase}))':s={sample_rate}:d={seconds}"


def make(
    path: Path,
    *,
    seconds: float,
    size: str = "320x240",
    rate: str = "25",
    video: bool = True,
    extra: tuple[str, ...] = (),
    sample_rate: int = 48000,
) -> Path:
    """A numbered H.264 + AAC file (or, with ``video=False``, sound alone in ``path``'s format)."""
    inputs = ["-f", "lavfi", "-i", audio_filter(seconds, sample_rate)]
    codecs = ["-c:a", "aac", "-b:a", "192k"] if path.suffix in (".mp4", ".mov", ".m4a") else []
    if video:
        inputs = ["-f", "lavfi", "-i", video_filter(size, rate, seconds), *inputs]
        codecs += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"]
    ffmpeg(*inputs, *codecs, *extra, "-shortest", str(path))
    return path


def turned(source: Path, target: Path, degrees: int = 90) -> Path:
    """``source`` with a display rotation (a phone held upright): the same pixels, stream-copied."""
    ffmpeg("-i", str(source), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}", str(target))
    return target


def frame_number(image: Any) -> int:
    """The number a decoded frame shows (a grey numpy image, upright as the source made it)."""
    row = image[image.shape[0] // 2]
    width = row.shape[0]
    bits = [row[int((k + 0.5) * width / BITS)] > 128 for k in range(BITS)]
    return sum(1 << k for k, bit in enumerate(bits) if bit)


@dataclass
class Decoded:
    frames: list[int]  # the source frame number of each output frame, in order
    frame_times: list[float]  # each frame's presentation time, seconds
    size: tuple[int, int] | None  # width, height of the stored picture
    rotation: int  # what the file asks a player to turn it by
    rate: Fraction | None
    audio: np.ndarray  # mono float samples
    sample_rate: int
    video_end: float  # end of the last frame, seconds
    audio_end: float  # end of the last sample, seconds


def decode(path: Path, *, turn: int = 0) -> Decoded:
    """Everything a test checks; ``turn``: quarter turns (numpy rot90) that set the picture
    back upright as the source drew it, for a source recorded on its side."""
    with av.open(str(path)) as container:
        frames: list[int] = []
        times: list[float] = []
        size, rotation, rate = None, 0, None
        if container.streams.video:
            stream = container.streams.video[0]
            rate = Fraction(stream.average_rate) if stream.average_rate else None
            for frame in container.decode(stream):
                image = frame.to_ndarray(format="gray")
                size = (frame.width, frame.height)
                rotation = int(getattr(frame, "rotation", 0) or 0)
                frames.append(frame_number(np.rot90(image, turn)))
                times.append(float(frame.time))
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        pieces, sample_rate, first = [], stream.sample_rate, None
        for frame in container.decode(stream):
            if first is None:
                first = float(frame.time or 0.0)
            samples = frame.to_ndarray().astype(np.float64)
            pieces.append(samples.reshape(len(frame.layout.channels), -1)[0])
    audio = np.concatenate(pieces)
    period = 1 / rate if rate else 0
    return Decoded(
        frames=frames,
        frame_times=times,
        size=size,
        rotation=rotation,
        rate=rate,
        audio=audio,
        sample_rate=sample_rate,
        video_end=(times[-1] + float(period)) if times else 0.0,
        audio_end=(first or 0.0) + len(audio) / sample_rate,
    )


def sweep_phase(audio: np.ndarray, sample_rate: int, at: float) -> float | None:
    """Where in its second the source was at output time ``at`` (0–1), from the sweep's
    frequency around it; None near the second's wrap, where the window holds both ends."""
    centre = round(at * sample_rate)
    lo, hi = centre - WINDOW // 2, centre + WINDOW // 2
    if lo < 0 or hi > len(audio):
        return None
    window = audio[lo:hi] * np.hanning(WINDOW)
    spectrum = np.abs(np.fft.rfft(window, 16 * WINDOW))
    peak = int(np.argmax(spectrum))
    if 0 < peak < len(spectrum) - 1:  # parabolic interpolation between bins
        a, b, c = spectrum[peak - 1], spectrum[peak], spectrum[peak + 1]
        peak_f = peak + 0.5 * (a - c) / (a - 2 * b + c)
    else:
        peak_f = float(peak)
    frequency = peak_f * sample_rate / (16 * WINDOW)
    phase = (frequency - SWEEP_LOW) / SWEEP_SPAN
    return phase if 0.05 < phase < 0.95 else None


def circular_gap(a: float, b: float) -> float:
    """Distance between two phases of one second, in seconds."""
    d = (a - b) % 1.0
    return min(d, 1.0 - d)


def largest_jump(audio: np.ndarray, around: list[int], reach: int) -> float:
    """The largest sample-to-sample step within ``reach`` samples of the given positions."""
    steps = np.abs(np.diff(audio))
    found = 0.0
    for at in around:
        lo, hi = max(0, at - reach), min(len(steps), at + reach)
        if hi > lo:
            found = max(found, float(steps[lo:hi].max()))
    return found


def inside_jump(audio: np.ndarray, joins: list[int], keep_off: int) -> float:
    """The largest step away from every join (the kept sound's own)."""
    steps = np.abs(np.diff(audio))
    mask = np.ones(len(steps), dtype=bool)
    for at in joins:
        mask[max(0, at - keep_off) : at + keep_off] = False
    mask[:keep_off] = mask[-keep_off:] = False
    return float(steps[mask].max())


def seconds_of(frames: int, rate: Fraction) -> float:
    return float(frames / rate)


def is_close(a: float, b: float, within: float) -> bool:
    return math.isclose(a, b, abs_tol=within)
