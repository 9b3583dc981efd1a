"""The worker that ``roughy serve`` runs beside the API: a child process, restarted if it dies.

It is a process of its own so that media work never weighs on the API's memory or event loop.
It dies with the API process (PR_SET_PDEATHSIG), and sits in its own process group so that a
Ctrl-C at the terminal reaches the API, which then stops it gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time

log = logging.getLogger("roughy.worker")

PR_SET_PDEATHSIG = 1
MAX_BACKOFF = 30.0


def _detach() -> None:
    """In the child, before exec: a process group of its own, and death with the parent."""
    os.setpgid(0, 0)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedWorker:
    def __init__(self, grace_seconds: float, module: str) -> None:
        """``module``: what ``python -m`` runs as the worker (the caller's job list)."""
        self._grace = grace_seconds
        self._module = module
        self._process: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> None:
        """Start the worker and keep it running; call from the event loop's (main) thread."""
        await self._spawn()
        self._watch = asyncio.get_running_loop().create_task(self._keep_alive())

    async def _spawn(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self._module,
            preexec_fn=_detach,
        )
        log.info("worker process started", extra={"pid": self._process.pid})

    async def _keep_alive(self) -> None:
        backoff = 1.0
        while (process := self._process) is not None:
            started = time.monotonic()
            rc = await process.wait()
            log.error("worker process exited; starting another", extra={"rc": rc})
            if time.monotonic() - started > 60:
                backoff = 1.0
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            await self._spawn()

    async def stop(self) -> None:
        """SIGTERM: running jobs get the grace period to finish, then the worker is killed."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(self._grace + 2):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
