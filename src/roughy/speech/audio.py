"""Decoded sound for the speech engine: 16 kHz mono float32, and its loudness per 10 ms frame."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from roughy.speech.types import FRAME_SECONDS, SAMPLE_RATE

Samples = npt.NDArray[np.float32]

_FRAME = round(FRAME_SECONDS * SAMPLE_RATE)
_LEAD_LIMIT = 10.0  # seconds of silence we are willing to pad for a late-starting audio stream


class AudioUnreadable(ValueError):
    """The file has no audio stream, or its audio cannot be decoded."""


class _Buffer:
    """A growing float32 array, so decoding never holds a list of per-frame chunks."""

    def __init__(self, capacity: int) -> None:
        self.data = np.zeros(max(capacity, SAMPLE_RATE), dtype=np.float32)
        self.size = 0

    def append(self, block: Samples) -> None:
        end = self.size + len(block)
        if end > len(self.data):
            grown = np.zeros(max(end, len(self.data) * 3 // 2), dtype=np.float32)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = block
        self.size = end

    def pad_to(self, size: int) -> None:
        if size > self.size:
            self.append(np.zeros(size - self.size, dtype=np.float32))

    def result(self) -> Samples:
        if len(self.data) - self.size > SAMPLE_RATE:
            return self.data[: self.size].copy()
        return self.data[: self.size]


def load_audio(path: Path) -> Samples:
    """The first audio stream of ``path`` (any container PyAV reads) as 16 kHz mono float32.

    Sample 0 is the container's start time (what ``ffmpeg -ss`` counts from), so an audio
    stream that starts after the video is padded with silence at the front.
    """
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioUnreadable(f"{path.name} has no audio stream")
            stream = container.streams.audio[0]
            duration = _duration(container, stream)
            buffer = _Buffer(math.ceil(duration * SAMPLE_RATE) + SAMPLE_RATE)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            origin = (container.start_time or 0) / av.time_base
            first = True
            for frame in container.decode(stream):
                if first:
                    first = False
                    lead = (frame.time or 0.0) - origin
                    if 0 < lead <= _LEAD_LIMIT:
                        buffer.pad_to(round(lead * SAMPLE_RATE))
                for out in resampler.resample(frame):
                    buffer.append(_mono(out))
            for out in resampler.resample(None):
                buffer.append(_mono(out))
    except av.FFmpegError as exc:
        raise AudioUnreadable(f"{path.name}: {exc}") from exc
    return buffer.result()


def _mono(frame: av.AudioFrame) -> Samples:
    return frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)


def _duration(container: av.container.InputContainer, stream: av.AudioStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def frame_levels(samples: Samples) -> npt.NDArray[np.float32]:
    """RMS of each 10 ms frame; the last, partial frame is the RMS of the samples it has."""
    count = math.ceil(len(samples) / _FRAME)
    whole = len(samples) // _FRAME
    levels = np.zeros(count, dtype=np.float32)
    frames = samples[: whole * _FRAME].reshape(whole, _FRAME)
    if whole:
        levels[:whole] = np.sqrt(np.einsum("ij,ij->i", frames, frames) / _FRAME)
    if count > whole:
        tail = samples[whole * _FRAME :]
        levels[whole] = math.sqrt(float(np.dot(tail, tail)) / len(tail))
    return levels
