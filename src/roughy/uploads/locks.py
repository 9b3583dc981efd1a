"""One writer per upload at a time, within this process.

A request that finds the upload held asks the holder to let go (as tusd does): a client that
reconnects after a dropped connection should not wait for the server to notice the old one is
dead. The holder stops reading at once, keeps what it received, and releases; the newcomer gets
the lock, or ``423 upload_locked`` if the holder has not let go within the wait.

Across nodes (with Redis configured) a holder also takes a lease in Redis: a PATCH to an
upload another node is writing waits for the lease and gets ``423 upload_locked`` if it does not
come free in time. Each lease carries a fencing token (a per-upload counter); a holder renews
its lease while it writes and checks its token before acknowledging an offset, so a node that
stalled past its lease cannot count bytes after another node took the upload over. The offset
update itself stays conditional (see the upload service) beneath all this. With Redis not
answering, a PATCH answers ``503 service_unavailable`` (nothing written, nothing counted); a
holder that cannot renew stops and counts nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from roughy.errors import ApiError

if TYPE_CHECKING:
    from redis import Redis as SyncRedis
    from redis.asyncio import Redis

LEASE_SECONDS = 10.0  # what a node killed mid-PATCH holds its uploads up for
# An upload's token counter outlives any holder that may still be writing (a lease is seconds)
# and then goes, rather than one key per upload ever made.
FENCE_TTL_SECONDS = 24 * 3600
REDIS_TIMEOUT_SECONDS = 5.0  # an unreachable Redis fails a PATCH in this long, not a TCP timeout
_RENEW = """if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"""
_RELEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1]) else return 0 end"""


class LeaseLost(ApiError):
    def __init__(self) -> None:
        super().__init__(
            "upload_locked",
            "This node's hold on the upload lapsed and another took it over; HEAD and resume.",
            headers={"Retry-After": "1"},
        )


def lock_unavailable() -> ApiError:
    return ApiError(
        "service_unavailable",
        "The lock service (Redis) that guards uploads across nodes does not answer; retry shortly.",
        headers={"Retry-After": "5"},
    )


class Leases:
    """Per-upload leases with fencing tokens in Redis, shared by every node."""

    def __init__(self, url: str, namespace: str, lease_seconds: float = LEASE_SECONDS) -> None:
        from redis import Redis as SyncRedis
        from redis.asyncio import Redis

        wait = REDIS_TIMEOUT_SECONDS
        self._redis: Redis = Redis.from_url(url, socket_timeout=wait, socket_connect_timeout=wait)
        self._sync: SyncRedis = SyncRedis.from_url(
            url, socket_timeout=wait, socket_connect_timeout=wait
        )
        self._namespace = namespace
        self.lease_ms = int(lease_seconds * 1000)

    def _key(self, upload_id: str) -> str:
        return f"{self._namespace}:upload-lock:{upload_id}"

    async def acquire(self, upload_id: str) -> int | None:
        """A fencing token holding the upload, or None while another holds it; raises
        ``service_unavailable`` when Redis does not answer."""
        from redis.exceptions import RedisError

        try:
            fence = f"{self._namespace}:upload-fence:{upload_id}"
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(fence)
                pipe.expire(fence, FENCE_TTL_SECONDS)
                counted, _ = await pipe.execute()
            token = int(counted)
            taken = await self._redis.set(self._key(upload_id), token, nx=True, px=self.lease_ms)
        except RedisError as exc:
            raise lock_unavailable() from exc
        return token if taken else None

    async def renew(self, upload_id: str, token: int) -> bool:
        """Whether the lease is renewed (False too when Redis does not answer)."""
        from redis.exceptions import RedisError

        try:
            renew = self._redis.eval(_RENEW, 1, self._key(upload_id), token, self.lease_ms)
            return bool(await renew)
        except RedisError:
            return False

    async def release(self, upload_id: str, token: int) -> None:
        """Let go (when Redis does not answer, the lease lapses by itself)."""
        from redis.exceptions import RedisError

        with contextlib.suppress(RedisError):
            await self._redis.eval(_RELEASE, 1, self._key(upload_id), token)

    def holds(self, upload_id: str, token: int) -> bool:
        """Whether ``token`` still holds the upload (blocking: asked from a worker thread);
        raises ``service_unavailable`` when Redis cannot tell."""
        from redis.exceptions import RedisError

        try:
            value = self._sync.get(self._key(upload_id))
        except RedisError as exc:
            raise lock_unavailable() from exc
        return value is not None and int(value) == token


class Hold:
    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.release_requested = False
        self.saving = asyncio.Event()  # the PATCH has stopped reading its body
        self._on_release_request: Callable[[], None] | None = None
        self._fence: Callable[[], bool] | None = None

    def fence(self) -> None:
        """Raises :class:`LeaseLost` unless this hold still holds the upload (blocking: checked
        in a worker thread before an offset is acknowledged)."""
        if self._fence is not None and not self._fence():
            raise LeaseLost()

    def on_release_request(self, callback: Callable[[], None] | None) -> None:
        self._on_release_request = callback

    def request_release(self) -> None:
        self.release_requested = True
        if self._on_release_request is not None:
            self._on_release_request()


class UploadLocks:
    def __init__(self, leases: Leases | None = None) -> None:
        self._held: dict[str, Hold] = {}
        self._leases = leases

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
            if self._leases is None:
                yield hold
            else:
                async with self._leased(upload_id, hold, deadline):
                    yield hold
        finally:
            del self._held[upload_id]
            hold.released.set()

    @asynccontextmanager
    async def _leased(self, upload_id: str, hold: Hold, deadline: float) -> AsyncIterator[None]:
        """The upload's lease across nodes while the block runs, renewed as it goes."""
        leases = self._leases
        assert leases is not None
        loop = asyncio.get_running_loop()
        while (token := await leases.acquire(upload_id)) is None:
            if loop.time() >= deadline:
                raise ApiError(
                    "upload_locked",
                    "Another request is writing this upload right now; retry shortly.",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(0.1)
        hold._fence = lambda: leases.holds(upload_id, token)

        done = asyncio.Event()

        async def keep() -> None:
            while not done.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), leases.lease_ms / 3000)
                    return
                if not await leases.renew(upload_id, token):
                    hold.request_release()  # lapsed: stop reading; the fence refuses the count
                    return

        # The keeper is told to stop, never cancelled: a cancellation that lands inside the
        # Redis client's call can be swallowed there (the keeper then renewed on, and the PATCH
        # awaiting it hung after its last byte was stored, 1 in ~100 PATCHes under load).
        keeper = asyncio.create_task(keep())
        try:
            yield
        finally:
            done.set()
            await asyncio.wait({keeper}, timeout=REDIS_TIMEOUT_SECONDS + 1)
            if not keeper.done():
                keeper.cancel()  # a renewal stuck past its socket timeout; left to end alone
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(leases.release(upload_id, token)), REDIS_TIMEOUT_SECONDS + 1
                )
