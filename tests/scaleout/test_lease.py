"""The uploads' cross-node lease on the real Redis: letting go of an upload never waits on a
renewal that swallows its cancellation (the Redis client can, when a cancellation lands inside
a call: a PATCH then hung after its last byte was stored)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from roughy.uploads.locks import Leases, UploadLocks
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.s3, pytest.mark.postgresql]


class SwallowingLeases(Leases):
    """Renewals that take a while and swallow a cancellation, as a client call caught
    mid-flight can."""

    renewals = 0

    async def renew(self, upload_id: str, token: int) -> bool:
        self.renewals += 1
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)
        return await super().renew(upload_id, token)


def test_letting_go_of_an_upload_does_not_wait_on_a_renewal_that_swallows_cancellation() -> None:
    async def scenario() -> tuple[float, int, bool]:
        leases = SwallowingLeases(REDIS_URL, f"lease-test-{uuid.uuid4().hex}", lease_seconds=1.5)
        locks = UploadLocks(leases)
        upload_id = str(uuid.uuid4())
        async with locks.hold(upload_id, wait_seconds=1):
            await asyncio.sleep(0.6)  # let go while the keeper is inside its first renewal
        let_go = time.monotonic()
        renewals = leases.renewals
        await asyncio.sleep(1.0)
        taken = await leases.acquire(upload_id)  # free again: released, not left to lapse
        return let_go, renewals - leases.renewals, taken is not None

    started = time.monotonic()
    let_go, renewed_after, free = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert let_go - started < 10
    assert renewed_after == 0  # the keeper stopped
    assert free
