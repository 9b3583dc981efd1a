"""Decoded sound for the speech engine: 16 kHz mono float32, and its loudness per 10 ms frame.

A long recording is never held whole: ``decode`` streams it into an unnamed temporary file
(a ``Recording``, 230 MB of disk an hour) and its levels, and the engine reads the windows it
needs. ``load_audio`` gives the same samples as one array, for short clips.
"""

from __future__ import annotations

import math
import os
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol

import av
import numpy as np
import numpy.typing as npt

from roughy.media.inputs import MediaInput, pyav_options, scrubbed, shown, target
from roughy.speech.types import FRAME_SECONDS, SAMPLE_RATE

Samples = npt.NDArray[np.float32]
Levels = npt.NDArray[np.float32]

_FRAME = round(FRAME_SECONDS * SAMPLE_RATE)
_LEAD_LIMIT = 10.0  # seconds of silence we are willing to pad for a late-starting audio stream
_WIDTH = np.dtype(np.float32).itemsize


class AudioUnreadable(ValueError):
    """The file has no audio stream, or its audio cannot be decoded."""


class Sound(Protocol):
    """16 kHz mono float32 sound that can be read a stretch at a time."""

    @property
    def length(self) -> int:
        """Samples in all."""
        ...

    def read(self, first: int, last: int) -> Samples:
        """Samples ``first`` to ``last`` (exclusive), clipped to the sound."""
        ...

    def levels(self) -> Levels:
        """``frame_levels`` of the whole sound."""
        ...


class InMemory:
    """A ``Sound`` over an array already decoded (a short clip, a test)."""

    def __init__(self, samples: Samples) -> None:
        self.samples = samples

    @property
    def length(self) -> int:
        return len(self.samples)

    def read(self, first: int, last: int) -> Samples:
        return self.samples[max(first, 0) : max(last, 0)]

    def levels(self) -> Levels:
        return frame_levels(self.samples)


def sound_of(source: Samples | Sound) -> Sound:
    """``source`` as a ``Sound``: an array is wrapped, anything else is one already."""
    return InMemory(source) if isinstance(source, np.ndarray) else source


class Recording:
    """A recording decoded once into an unnamed temporary file, read a window at a time.

    The file has no name (it is gone when closed, or when the process ends); ``close`` or
    dropping the last reference frees its disk.
    """

    def __init__(self, file: IO[bytes], length: int, levels: Levels) -> None:
        self._file = file
        self._length = length
        self._levels = levels
        self._closer = weakref.finalize(self, file.close)  # dropped without close() too

    @property
    def length(self) -> int:
        return self._length

    @property
    def duration(self) -> float:
        return self._length / SAMPLE_RATE

    def read(self, first: int, last: int) -> Samples:
        first, last = max(first, 0), min(last, self._length)
        if last <= first:
            return np.zeros(0, dtype=np.float32)
        data = os.pread(self._file.fileno(), (last - first) * _WIDTH, first * _WIDTH)
        return np.frombuffer(data, dtype=np.float32).copy()

    def window(self, start: float, end: float) -> Samples:
        """The samples of [start, end] seconds, as ``load_audio(path)[first:last]`` would be."""
        return self.read(round(max(0.0, start) * SAMPLE_RATE), round(end * SAMPLE_RATE))

    def levels(self) -> Levels:
        return self._levels

    def close(self) -> None:
        self._closer()

    def __enter__(self) -> Recording:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


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

    def result(self) -> Samples:
        if len(self.data) - self.size > SAMPLE_RATE:
            return self.data[: self.size].copy()
        return self.data[: self.size]


class _Loudness:
    """``frame_levels`` of a sound fed a block at a time (the same values, frame by frame)."""

    def __init__(self, capacity: int) -> None:
        self._levels = _Buffer(capacity // _FRAME + 1)
        self._rest = np.zeros(0, dtype=np.float32)

    def add(self, block: Samples) -> None:
        data = np.concatenate([self._rest, block]) if len(self._rest) else block
        whole = len(data) // _FRAME
        if whole:
            self._levels.append(_rms(data[: whole * _FRAME]))
        self._rest = data[whole * _FRAME :].copy()

    def result(self) -> Levels:
        if len(self._rest):
            self._levels.append(frame_levels(self._rest))
            self._rest = self._rest[:0]
        return self._levels.result()


def decode(path: MediaInput, directory: Path | None = None) -> Recording:
    """``path``'s first audio stream (as ``load_audio`` reads it; ``path`` a file, or a URL
    read with Range requests) streamed into a temporary file in ``directory`` (the system's
    temporary directory by default), with its levels. Memory stays flat however long the
    recording is."""
    file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 (the Recording closes it)
    loudness = _Loudness(0)
    length = 0
    try:
        for block in _seconds(_blocks(path)):
            file.write(block.tobytes())
            loudness.add(block)
            length += len(block)
        file.flush()
    except BaseException:
        file.close()
        raise
    return Recording(file, length, loudness.result())


def _seconds(blocks: Iterator[tuple[Samples, int]]) -> Iterator[Samples]:
    """The decoded frames (~20 ms each) joined into blocks of about a second."""
    pending: list[Samples] = []
    size = 0
    for block, _ in blocks:
        pending.append(block)
        size += len(block)
        if size >= SAMPLE_RATE:
            yield np.concatenate(pending)
            pending, size = [], 0
    if pending:
        yield np.concatenate(pending)


def load_audio(path: MediaInput) -> Samples:
    """The first audio stream of ``path`` (any container PyAV reads) as 16 kHz mono float32.

    Sample 0 is the container's start time (what ``ffmpeg -ss`` counts from), so an audio
    stream that starts after the video is padded with silence at the front.
    """
    buffer: _Buffer | None = None
    for block, expected in _blocks(path):
        if buffer is None:
            buffer = _Buffer(expected)
        buffer.append(block)
    return buffer.result() if buffer is not None else np.zeros(0, dtype=np.float32)


def _blocks(path: MediaInput) -> Iterator[tuple[Samples, int]]:
    """``load_audio``'s samples a decoded frame at a time, each with the samples expected in
    all (from the container's duration)."""
    try:
        with av.open(target(path), options=pyav_options(path)) as container:
            if not container.streams.audio:
                raise AudioUnreadable(f"{shown(path)} has no audio stream")
            stream = container.streams.audio[0]
            expected = math.ceil(_duration(container, stream) * SAMPLE_RATE) + SAMPLE_RATE
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            origin = (container.start_time or 0) / av.time_base
            first = True
            for frame in container.decode(stream):
                if first:
                    first = False
                    lead = (frame.time or 0.0) - origin
                    if 0 < lead <= _LEAD_LIMIT:
                        yield np.zeros(round(lead * SAMPLE_RATE), dtype=np.float32), expected
                for out in resampler.resample(frame):
                    yield _mono(out), expected
            for out in resampler.resample(None):
                yield _mono(out), expected
    except av.FFmpegError as exc:
        raise AudioUnreadable(f"{shown(path)}: {scrubbed(str(exc), path)}") from exc


def _mono(frame: av.AudioFrame) -> Samples:
    return frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)


def _duration(container: av.container.InputContainer, stream: av.AudioStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def frame_levels(samples: Samples) -> Levels:
    """RMS of each 10 ms frame; the last, partial frame is the RMS of the samples it has."""
    count = math.ceil(len(samples) / _FRAME)
    whole = len(samples) // _FRAME
    levels = np.zeros(count, dtype=np.float32)
    if whole:
        levels[:whole] = _rms(samples[: whole * _FRAME])
    if count > whole:
        tail = samples[whole * _FRAME :]
        levels[whole] = math.sqrt(float(np.dot(tail, tail)) / len(tail))
    return levels


def _rms(samples: Samples) -> Levels:
    """RMS of each whole 10 ms frame of ``samples`` (a whole number of frames)."""
    frames = samples.reshape(-1, _FRAME)
    rms: Levels = np.sqrt(np.einsum("ij,ij->i", frames, frames) / _FRAME).astype(np.float32)
    return rms
