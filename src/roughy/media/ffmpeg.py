"""Running ffmpeg: where the binary comes from, its progress, and stopping it.

The binary is the one the ``imageio-ffmpeg`` package ships (a static build with libx264, AAC and
LAME, installed with Roughy's own dependencies), unless ``ROUGHY_FFMPEG`` names another.
A render's ffmpeg runs in a process group of its own and dies with its worker
(PR_SET_PDEATHSIG): a worker killed mid-render leaves no encoder writing behind it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import IO

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.25
KILL_AFTER_SECONDS = 1.0


class EncoderFailed(Exception):
    """ffmpeg stopped with an error; the message ends with what it printed last."""


class Stopped(Exception):
    """``should_stop`` said so, and the encoder was stopped."""


def binary(configured: str | None = None) -> str:
    """The ffmpeg to run: ``configured`` (a setting), else the one shipped by imageio-ffmpeg."""
    if configured:
        return configured
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _own_group_dying_with_parent() -> None:
    os.setpgid(0, 0)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run(
    argv: Sequence[str],
    *,
    total_seconds: float,
    on_progress: Callable[[float], None],
    should_stop: Callable[[], bool],
    stop_check_seconds: float = 0.5,
) -> None:
    """Run ``argv`` (which writes ``-progress pipe:1``) to its end.

    ``on_progress(fraction)`` is called as the output grows (0–1, at most every
    ``stop_check_seconds``); ``should_stop()`` is asked as often, and when it says so the encoder
    gets SIGTERM, then SIGKILL a second later, and :class:`Stopped` is raised.
    """
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_own_group_dying_with_parent,
    )
    assert process.stdout is not None and process.stderr is not None
    seconds_out = [0.0]
    errors: deque[str] = deque(maxlen=20)
    readers = [
        threading.Thread(target=_read_progress, args=(process.stdout, seconds_out), daemon=True),
        threading.Thread(target=_read_tail, args=(process.stderr, errors), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        _watch(process, total_seconds, seconds_out, on_progress, should_stop, stop_check_seconds)
    except BaseException:
        _stop(process)
        raise
    finally:
        for reader in readers:
            reader.join(timeout=5)
    if process.returncode != 0:
        raise EncoderFailed(f"ffmpeg exited with {process.returncode}: " + " | ".join(errors))


def _watch(
    process: subprocess.Popen[bytes],
    total: float,
    seconds_out: list[float],
    on_progress: Callable[[float], None],
    should_stop: Callable[[], bool],
    every: float,
) -> None:
    next_check = time.monotonic() + every
    reported = -1.0
    while process.poll() is None:
        time.sleep(POLL_SECONDS)
        if time.monotonic() < next_check:
            continue
        next_check = time.monotonic() + every
        if should_stop():
            raise Stopped()
        fraction = min(1.0, seconds_out[0] / total) if total > 0 else 0.0
        if fraction != reported:
            on_progress(fraction)
            reported = fraction


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the encoder's group, SIGKILL after a second; waits for it."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(KILL_AFTER_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _read_progress(stream: IO[bytes], seconds_out: list[float]) -> None:
    """``-progress`` blocks of ``key=value`` lines: keep the output time (``out_time_us``)."""
    for raw in stream:
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            seconds_out[0] = max(seconds_out[0], int(value) / 1e6)


def _read_tail(stream: IO[bytes], tail: deque[str]) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace").strip()
        if line:
            tail.append(line[:300])
