"""Delivering webhooks in a worker process: the dispatcher loop and the process's sender.

Each worker runs the dispatcher beside its jobs (``JobQueue.register_loop``). Every
``webhook_poll_seconds``, and at once when this process commits an event, it claims a batch:
events not yet dispatched become a delivery per endpoint, and deliveries due (a retry's time
came, a test, a redelivery, an attempt whose worker died and whose claim lapsed) are claimed
for their next attempt; the process's ``Sender`` sends them. Everything is in the database, so
this loop is also what finds anything lost: there is no queued job to lose.

The dispatcher claims no more for an endpoint than the sender has room for (a few times its
slots), so a dead endpoint's backlog waits in the database, not in one worker's memory, and
never holds up another endpoint's events.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from roughy.webhooks import deliveries
from roughy.webhooks.deliveries import Outgoing, Policy

if TYPE_CHECKING:
    from roughy.config import Settings
    from roughy.runtime import Runtime
    from roughy.webhooks.sender import Sender

log = logging.getLogger("roughy.webhooks")

EVENTS_PER_POLL = 200
DUE_PER_POLL = 500

_senders: dict[int, Sender] = {}
_wake: dict[int, threading.Event] = {}
_lock = threading.Lock()


def policy(settings: Settings) -> Policy:
    # A claim outlasts one attempt (its timeout) by a job lease.
    lease = settings.webhook_timeout_seconds + settings.job_lease_seconds
    return Policy(
        retry_schedule=tuple(settings.webhook_retry_schedule),
        disable_after=timedelta(seconds=settings.webhook_disable_after_seconds),
        lease=timedelta(seconds=lease),
    )


def sender(rt: Runtime) -> Sender:
    """This process's sender, made at its first use and closed with the runtime."""
    # Imported here: only a process that sends loads httpx (7 MB of an API process's memory).
    from roughy.webhooks.sender import Sender

    wake = _wake_of(rt)
    with _lock:
        found = _senders.get(id(rt))
        if found is None:
            settings = rt.settings
            found = Sender(
                rt.db,
                policy(settings),
                timeout=settings.webhook_timeout_seconds,
                concurrency=settings.webhook_concurrency,
                allow_private=settings.webhook_allow_private,
                reclaim=lambda delivery_id: _claim(rt, delivery_id),
                on_room=wake.set,
            )
            _senders[id(rt)] = found
            rt.on_close.append(lambda: _close(rt))
        return found


def _close(rt: Runtime) -> None:
    with _lock:
        found = _senders.pop(id(rt), None)
    if found is not None:
        found.close()


def _claim(rt: Runtime, delivery_id: str) -> Outgoing | None:
    with rt.db.session() as session:
        return deliveries.claim(session, delivery_id, policy(rt.settings))


def _wake_of(rt: Runtime) -> threading.Event:
    with _lock:
        return _wake.setdefault(id(rt), threading.Event())


def announce(rt: Runtime, event_id: str) -> None:
    """An event was committed in this process: a worker's dispatcher polls now (another
    process's event is found by the workers' next poll)."""
    if rt.jobs.in_worker:
        _wake_of(rt).set()


def dispatcher(rt: Runtime, stop: threading.Event) -> None:
    """Poll until ``stop``: at once again after a full batch, else after the interval or when
    woken."""
    wake = _wake_of(rt)
    while not stop.is_set():
        try:
            busy = poll(rt)
        except Exception:  # the database away for a moment: try again at the next poll
            log.exception("webhook poll failed")
            busy = False
        if not busy:
            wake.wait(rt.settings.webhook_poll_seconds)
            wake.clear()


def poll(rt: Runtime) -> bool:
    """One batch of events dispatched and due deliveries claimed, handed to the sender; True
    when there may be more waiting."""
    send = sender(rt)
    rules = policy(rt.settings)
    with rt.db.session() as session:
        fresh = deliveries.fan_out(session, rules, EVENTS_PER_POLL, send.room)
    send.send(fresh)
    with rt.db.session() as session:
        due = deliveries.claim_due(session, rules, DUE_PER_POLL, send.room, send.full())
    send.send(due)
    return len(fresh) >= EVENTS_PER_POLL or len(due) >= DUE_PER_POLL
