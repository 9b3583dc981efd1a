"""Small audio helpers: 16 kHz mono float32 in and out, sox and ffmpeg by subprocess."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 16_000
Samples = npt.NDArray[np.float32]


def read_wav(path: Path) -> Samples:
    """A 16-bit PCM wav as float32 in -1..1 (mono: channels are averaged)."""
    with wave.open(str(path), "rb") as reader:
        if reader.getsampwidth() != 2:
            raise ValueError(f"{path}: not 16-bit PCM")
        channels = reader.getnchannels()
        data = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    samples = data.astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples


def write_wav(path: Path, samples: Samples, rate: int = RATE) -> None:
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm.tobytes())


def decode(path: Path, out: Path) -> Samples:
    """Any media file's audio as 16 kHz mono (ffmpeg), via the wav ``out``."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(path), "-vn", "-ac", "1",
         "-ar", str(RATE), "-c:a", "pcm_s16le", str(out)],
        check=True,
    )  # fmt: skip
    return read_wav(out)


def to_16k_trimmed(source: Path, out: Path, trim: bool = True) -> Samples:
    """``source`` resampled to 16 kHz mono by sox, its leading and trailing silence trimmed."""
    effects = ["silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%",
               "reverse"] if trim else []  # fmt: skip
    subprocess.run(
        ["sox", str(source), "-r", str(RATE), "-c", "1", "-b", "16", str(out), *effects],
        check=True,
    )
    return read_wav(out)


def pink_noise(count: int, rng: np.random.Generator) -> Samples:
    """Pink (1/f power) noise of unit RMS."""
    white = rng.standard_normal(count)
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(count)
    freqs[0] = freqs[1] if count > 1 else 1.0
    pink = np.fft.irfft(spectrum / np.sqrt(freqs), n=count)
    rms = float(np.sqrt(np.mean(pink**2))) or 1.0
    return (pink / rms).astype(np.float32)


def to_video(wav: Path, out: Path, colour: str) -> None:
    """``wav`` in an mp4 with a plain colour H.264 track (the video path of an upload)."""
    duration = f"{len(read_wav(wav)) / RATE:.3f}"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"color=c={colour}:s=320x240:r=25:d={duration}", "-i", str(wav),
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "128k", "-t", duration, str(out)],
        check=True,
    )  # fmt: skip
