"""One writer per upload at a time, within this process.

A request that finds the upload held asks the holder to let go (as tusd does): a client that
reconnects after a dropped connection should not wait for the server to notice the old one is
dead. The holder stops reading at once, keeps what it received, and releases; the newcomer gets
the lock, or ``423 upload_locked`` if the holder has not let go within the wait.

Across processes the offset update itself is conditional (see the upload service), so two
nodes can never both advance the same offset; a distributed lock belongs to the scale-out work.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from roughy.errors import ApiError


class Hold:
    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.release_requested = False
        self.saving = asyncio.Event()  # the PATCH has stopped reading its body
        self._on_release_request: Callable[[], None] | None = None

    def on_release_request(self, callback: Callable[[], None] | None) -> None:
        self._on_release_request = callback

    def request_release(self) -> None:
        self.release_requested = True
        if self._on_release_request is not None:
            self._on_release_request()


class UploadLocks:
    def __init__(self) -> None:
        self._held: dict[str, Hold] = {}

    def busy(self, upload_id: str) -> bool:
        """Whether a request is writing the upload now."""
        return upload_id in self._held

    async def settled(self, upload_id: str, *, grace: float, wait: float) -> None:
        """Let a PATCH that has stopped receiving finish saving, so a HEAD reports its bytes.

        A client that drops a PATCH and HEADs at once can be faster than the server's notice of
        the drop: a PATCH still receiving gets ``grace`` seconds to turn out dead. A live one is
        left alone (a HEAD answers what is acknowledged and never interrupts an upload).
        """
        hold = self._held.get(upload_id)
        if hold is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hold.saving.wait(), grace)
        if hold.saving.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hold.released.wait(), wait)

    async def wait_released(self) -> None:
        """Until every upload is let go (on shutdown: running PATCHes save what they received)."""
        while self._held:
            await next(iter(self._held.values())).released.wait()

    @asynccontextmanager
    async def hold_if_free(self, upload_id: str) -> AsyncIterator[bool]:
        """Hold the upload if no request does now (whether it did: the value); unlike
        :meth:`hold`, never asks a holder to let go."""
        if upload_id in self._held:
            yield False
            return
        hold = Hold()
        self._held[upload_id] = hold
        try:
            yield True
        finally:
            del self._held[upload_id]
            hold.released.set()

    @asynccontextmanager
    async def hold(self, upload_id: str, wait_seconds: float) -> AsyncIterator[Hold]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while (current := self._held.get(upload_id)) is not None:
            current.request_release()
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                await asyncio.wait_for(current.released.wait(), remaining)
            except TimeoutError:
                raise ApiError(
                    "upload_locked",
                    "Another request is writing this upload right now; retry shortly.",
                    headers={"Retry-After": "1"},
                ) from None
        hold = Hold()
        self._held[upload_id] = hold
        try:
            yield hold
        finally:
            del self._held[upload_id]
            hold.released.set()
