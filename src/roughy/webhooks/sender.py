"""Sending attempts, from one worker process: an event loop on a thread of its own.

Jobs hand claimed attempts over (``Sender.send``) and return at once, so a slow or dead
endpoint holds no job thread. Each endpoint has its own few slots (``webhook_concurrency``):
a burst to one endpoint goes out that many at a time, and an endpoint that times out fills only
its own slots, never another's. Outcomes are written in batches, one transaction each, by one
thread; a failed attempt's retry is scheduled on the queue.

Nothing here is needed for at-least-once: an attempt is a claimed delivery row, so if this
process dies with attempts in hand, their claims lapse and the relay has them sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from roughy import __version__
from roughy.db import Database, utcnow
from roughy.webhooks import addresses, deliveries, signing
from roughy.webhooks.deliveries import Outcome, Outgoing, Policy

log = logging.getLogger("roughy.webhooks")

MAX_CLIENTS = 256  # connection pools kept (one per endpoint address); the oldest is closed
MAX_RESPONSE_BYTES = 64 * 1024  # of a response's body read, so its connection can be reused
RECORD_BATCH = 200
USER_AGENT = f"Roughy-Webhooks/{__version__}"

Schedule = Callable[[str, float], None]  # schedule(delivery_id, seconds): a retry on the queue
Reclaim = Callable[[str], Outgoing | None]  # claim a delivery again (a claim that grew stale)


class Sender:
    """The attempts of one process: ``send`` is safe to call from any thread."""

    def __init__(
        self,
        db: Database,
        policy: Policy,
        *,
        timeout: float,
        concurrency: int,
        allow_private: bool,
        schedule: Schedule,
        reclaim: Reclaim,
    ) -> None:
        # httpx logs every request at INFO: the attempt's own line (``_log``) says more.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
        self._db = db
        self._policy = policy
        self._timeout = timeout
        self._concurrency = concurrency
        self._allow_private = allow_private
        self._schedule = schedule
        self._reclaim = reclaim
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._clients: OrderedDict[tuple[str, str, str | None], httpx.AsyncClient] = OrderedDict()
        self._outcomes: queue.SimpleQueue[Outcome | None] = queue.SimpleQueue()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="webhook-sender", daemon=True
        )
        self._recorder = threading.Thread(
            target=self._record_forever, name="webhook-recorder", daemon=True
        )
        self._thread.start()
        self._recorder.start()

    def send(self, attempts: list[Outgoing]) -> None:
        """Send these claimed attempts as their endpoints' slots allow."""
        for attempt in attempts:
            self._loop.call_soon_threadsafe(self._start, attempt)

    def close(self) -> None:
        """Stop sending (attempts in hand are left to lapse) and write the outcomes so far."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._outcomes.put(None)
        self._recorder.join(10)

    def _start(self, attempt: Outgoing) -> None:
        self._loop.create_task(self._attempt(attempt))

    async def _attempt(self, attempt: Outgoing) -> None:
        slots = self._slots.setdefault(attempt.endpoint_id, asyncio.Semaphore(self._concurrency))
        try:
            async with slots:
                fresh = await self._fresh(attempt)
                if fresh is None:
                    return
                outcome = await self._post(fresh)
        except Exception:  # its claim lapses, and the relay has it sent again
            log.exception("webhook attempt not made", extra={"delivery_id": attempt.delivery_id})
            return
        self._outcomes.put(outcome)

    async def _fresh(self, attempt: Outgoing) -> Outgoing | None:
        """The attempt, if its claim outlasts the attempt's timeout; else claimed again (it
        waited long for a slot), or None when another worker has it now."""
        margin = timedelta(seconds=self._timeout + 1)
        if utcnow() + margin < attempt.lease_until:
            return attempt
        return await asyncio.to_thread(self._reclaim, attempt.delivery_id)

    async def _post(self, attempt: Outgoing) -> Outcome:
        at = utcnow()
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout):
                target = await addresses.target(attempt.url, allow_private=self._allow_private)
                status, retry_after = await self._request(attempt, target, at)
        except addresses.Refused as exc:
            return Outcome(attempt, at, None, None, f"refused: the URL {exc}")
        except TimeoutError:
            error = f"timed out after {self._timeout:g} s"
            return Outcome(attempt, at, None, _ms(started), error)
        except httpx.HTTPError as exc:
            return Outcome(attempt, at, None, _ms(started), _describe(exc))
        return Outcome(attempt, at, status, _ms(started), retry_after=retry_after)

    async def _request(
        self, attempt: Outgoing, target: addresses.Target, at: datetime
    ) -> tuple[int, float | None]:
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "host": target.host,
            **signing.headers(attempt.event_id, attempt.body, attempt.keys, at),
        }
        extensions = {"sni_hostname": target.server_name} if target.server_name else {}
        client = self._client(target)
        request = client.build_request(
            "POST", target.url, content=attempt.body, headers=headers, extensions=extensions
        )
        response = await client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > MAX_RESPONSE_BYTES:
                    break
        finally:
            await response.aclose()
        return response.status_code, _retry_after(response.headers.get("retry-after"))

    def _client(self, target: addresses.Target) -> httpx.AsyncClient:
        key = (target.url.split("/", 3)[2], target.host, target.server_name)
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        client = httpx.AsyncClient(
            timeout=self._timeout,
            follow_redirects=False,  # a 3xx is a failed attempt, never followed
            trust_env=False,  # no proxy from the environment: the checked address is reached
            limits=httpx.Limits(
                max_connections=self._concurrency, max_keepalive_connections=self._concurrency
            ),
        )
        self._clients[key] = client
        if len(self._clients) > MAX_CLIENTS:
            _, oldest = self._clients.popitem(last=False)
            self._loop.create_task(oldest.aclose())
        return client

    def _record_forever(self) -> None:
        stopping = False
        while not stopping:
            batch: list[Outcome] = []
            item = self._outcomes.get()
            while True:
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                if len(batch) >= RECORD_BATCH:
                    break
                try:
                    item = self._outcomes.get_nowait()
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[Outcome]) -> None:
        if not batch:
            return
        try:
            with self._db.session() as session:
                retries = deliveries.record(session, batch, self._policy)
        except Exception:  # their claims lapse, and the attempts are made again
            log.exception("webhook outcomes not recorded", extra={"attempts": len(batch)})
            return
        for outcome in batch:
            _log(outcome)
        for delivery_id, delay in retries:
            try:
                self._schedule(delivery_id, delay)
            except Exception:  # the relay finds it once due
                log.exception("retry not scheduled", extra={"delivery_id": delivery_id})


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _describe(exc: httpx.HTTPError) -> str:
    kinds: dict[type[Exception], str] = {
        httpx.ConnectError: "connection failed",
        httpx.ReadError: "connection lost",
        httpx.RemoteProtocolError: "bad HTTP response",
    }
    kind = kinds.get(type(exc), type(exc).__name__)
    detail = str(exc)
    return f"{kind}: {detail}" if detail else kind


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date."""
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError):
        when = parsedate_to_datetime(value)
        return max(0.0, (when.astimezone(UTC) - utcnow()).total_seconds())
    return None


def _log(outcome: Outcome) -> None:
    extra = {
        "event_id": outcome.sent.event_id,
        "endpoint_id": outcome.sent.endpoint_id,
        "attempt": outcome.sent.attempt,
        "status": outcome.status_code,
        "latency_ms": outcome.latency_ms,
    }
    if outcome.delivered:
        log.info("webhook delivered", extra=extra)
    else:
        log.warning("webhook attempt failed", extra={**extra, "error": outcome.error})
