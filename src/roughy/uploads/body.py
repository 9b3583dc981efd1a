"""A PATCH body as a stream of pieces that can be stopped from outside.

Another request taking over the upload, a connection gone silent, or the server stopping all
end the body early; what was read until then is kept by the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from enum import Enum

from starlette.types import Receive

from roughy.uploads.locks import Hold

log = logging.getLogger("roughy.uploads")


class Ending(Enum):
    COMPLETE = "complete"  # the whole body arrived
    DISCONNECTED = "disconnected"  # the client went away
    INTERRUPTED = "interrupted"  # another request took over, the connection went idle, or
    # the server stops (see Body.cause)
    OVERFLOW = "overflow"  # more bytes than the upload has room for


class Cause(Enum):
    """Why a body was interrupted."""

    TAKEN_OVER = "taken_over"  # another request on the same upload asked for it
    IDLE = "idle"  # the connection was silent too long
    STOPPING = "stopping"  # the server cancelled the request (shutdown)


class Body:
    """The request body as pieces, stoppable from outside while it waits for the network."""

    def __init__(self, receive: Receive, hold: Hold, idle_timeout: float) -> None:
        self._receive = receive
        self._hold = hold
        self._idle_timeout = idle_timeout
        self._task = asyncio.current_task()
        self._waiting = False
        self._stopping = hold.release_requested  # asked to let go before reading a byte
        self.last_data = time.monotonic()
        self.ending: Ending | None = None
        self.cause: Cause | None = Cause.TAKEN_OVER if self._stopping else None
        hold.on_release_request(self._taken_over)

    def _taken_over(self) -> None:
        self._interrupt(Cause.TAKEN_OVER)

    def _interrupt(self, cause: Cause) -> None:
        if self.ending is None and not self._stopping:
            self._stopping = True
            self.cause = cause
            if self._waiting and self._task is not None:
                self._task.cancel()

    async def watch(self) -> None:
        """Interrupt the reader when the connection has been silent too long."""
        while self.ending is None:
            await asyncio.sleep(min(1.0, self._idle_timeout / 4))
            if time.monotonic() - self.last_data > self._idle_timeout:
                log.info("upload connection idle; keeping what arrived")
                self._interrupt(Cause.IDLE)
                return

    async def next(self) -> bytes | None:
        """The next piece, or None once the body has ended (see :attr:`ending`)."""
        while self.ending is None:
            if self._stopping:
                self._end(Ending.INTERRUPTED)
                break
            self._waiting = True
            try:
                message = await self._receive()
            except asyncio.CancelledError:
                if self._task is None:
                    raise
                self._task.uncancel()  # released, idle, or the server stops: keep what arrived
                self.cause = self.cause or Cause.STOPPING
                self._end(Ending.INTERRUPTED)
                break
            finally:
                self._waiting = False
            if message["type"] == "http.disconnect":
                self._end(Ending.DISCONNECTED)
                break
            data: bytes = message.get("body", b"")
            if not message.get("more_body", False):
                self._end(Ending.COMPLETE)
            if data:
                self.last_data = time.monotonic()
                return data
        return None

    async def read_head(self, size: int) -> bytes:
        """At least ``size`` bytes, or what there is when the body ends first."""
        parts: list[bytes] = []
        have = 0
        while have < size and (piece := await self.next()) is not None:
            parts.append(piece)
            have += len(piece)
        return b"".join(parts)

    async def drain(self, limit: int) -> None:
        seen = 0
        while seen < limit and (piece := await self.next()) is not None:
            seen += len(piece)

    def saving(self) -> None:
        """No more of it is read (it may not have ended: a body past the upload's length)."""
        self._hold.saving.set()

    def _end(self, ending: Ending) -> None:
        self.ending = ending
        self._hold.saving.set()

    @property
    def cut_short(self) -> bool:
        """Whether it was stopped while its client was still sending: by another request on
        the same upload, or by silence. Its client must hear so, and not send the rest."""
        return self.ending is Ending.INTERRUPTED and self.cause in (Cause.TAKEN_OVER, Cause.IDLE)

    def close(self) -> None:
        self._hold.on_release_request(None)
        if self.ending is None:
            self._end(Ending.INTERRUPTED)


@contextlib.asynccontextmanager
async def watching(body: Body) -> AsyncIterator[None]:
    watcher = asyncio.create_task(body.watch())
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        body.close()
