"""Sending attempts, from one worker process: an event loop on a thread of its own.

The dispatcher hands claimed attempts over (``Sender.send``), so a slow or dead endpoint holds
no thread. Each endpoint has its own few slots (``webhook_concurrency``): a burst to one
endpoint goes out that many at a time, and an endpoint that times out fills only its own slots,
never another's; ``room`` tells the dispatcher how many more attempts of an endpoint to claim.
Outcomes are written in batches, one transaction each, by one thread; a failed attempt's
delivery is due again later, and the dispatcher finds it then.

Nothing here is needed for at-least-once: an attempt is a claimed delivery row, so if this
process dies with attempts in hand, their claims lapse and another dispatcher claims them.
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

BACKLOG_SLOTS = 8  # attempts of one endpoint in hand, per slot: a few batches waiting
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
        reclaim: Reclaim,
        on_room: Callable[[], None] = lambda: None,
    ) -> None:
        # httpx logs every request at INFO: the attempt's own line (``_log``) says more.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
        self._db = db
        self._policy = policy
        self._timeout = timeout
        self._concurrency = concurrency
        self._allow_private = allow_private
        self._reclaim = reclaim
        self._on_room = on_room  # an endpoint that was full has room again
        self._in_hand: dict[str, int] = {}  # attempts handed over and not done, by endpoint
        self._in_hand_lock = threading.Lock()
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
        with self._in_hand_lock:
            for attempt in attempts:
                self._in_hand[attempt.endpoint_id] = self._in_hand.get(attempt.endpoint_id, 0) + 1
        for attempt in attempts:
            self._loop.call_soon_threadsafe(self._start, attempt)

    def room(self, endpoint_id: str) -> int:
        """How many more attempts to this endpoint it would take on now."""
        with self._in_hand_lock:
            return self._concurrency * BACKLOG_SLOTS - self._in_hand.get(endpoint_id, 0)

    def full(self) -> set[str]:
        """The endpoints it has no room for."""
        cap = self._concurrency * BACKLOG_SLOTS
        with self._in_hand_lock:
            return {e for e, n in self._in_hand.items() if n >= cap}

    def _done(self, attempt: Outgoing) -> None:
        cap = self._concurrency * BACKLOG_SLOTS
        with self._in_hand_lock:
            left = self._in_hand.get(attempt.endpoint_id, 1) - 1
            if left > 0:
                self._in_hand[attempt.endpoint_id] = left
            else:
                self._in_hand.pop(attempt.endpoint_id, None)
        if left == cap - 1:
            self._on_room()

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
        except Exception:  # its claim lapses, and the dispatcher claims it again
            log.exception("webhook attempt not made", extra={"delivery_id": attempt.delivery_id})
            return
        finally:
            self._done(attempt)
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
                deliveries.record(session, batch, self._policy)
        except Exception:  # their claims lapse, and the attempts are made again
            log.exception("webhook outcomes not recorded", extra={"attempts": len(batch)})
            return
        for outcome in batch:
            _log(outcome)


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
