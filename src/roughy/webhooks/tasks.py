"""The webhook jobs: an event handed to its endpoints, a delivery's next attempt, and the relay
that finds what was lost (an announcement or a scheduled retry the queue dropped, a worker that
died mid-attempt), run with housekeeping.

Attempts are sent by the process's ``Sender`` (one per worker process, made at its first use),
so these jobs return as soon as they have claimed their rows.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from roughy.db import utcnow
from roughy.webhooks import deliveries
from roughy.webhooks.deliveries import Outgoing, Policy
from roughy.webhooks.sender import Sender

if TYPE_CHECKING:
    from roughy.config import Settings
    from roughy.runtime import Runtime

log = logging.getLogger("roughy.webhooks")

RELAY_BATCH = 1000
# An event not dispatched this long after its commit, or a delivery due this long with nobody
# on it, was lost on its way (its announcement, its scheduled retry, its worker).
RELAY_AFTER = timedelta(seconds=2)

_senders: dict[int, Sender] = {}
_senders_lock = threading.Lock()


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
    with _senders_lock:
        found = _senders.get(id(rt))
        if found is None:
            settings = rt.settings
            found = Sender(
                rt.db,
                policy(settings),
                timeout=settings.webhook_timeout_seconds,
                concurrency=settings.webhook_concurrency,
                allow_private=settings.webhook_allow_private,
                schedule=lambda delivery_id, delay: rt.jobs.submit_later(
                    deliver, delivery_id, delay=delay
                ),
                reclaim=lambda delivery_id: _claim(rt, delivery_id),
            )
            _senders[id(rt)] = found
            rt.on_close.append(lambda: _close(rt))
        return found


def _close(rt: Runtime) -> None:
    with _senders_lock:
        found = _senders.pop(id(rt), None)
    if found is not None:
        found.close()


def announce(rt: Runtime, event_id: str) -> None:
    """An event was committed: a worker hands it to its endpoints now; another process (the
    API) queues that for a worker."""
    if rt.jobs.in_worker:
        dispatch_event(rt, event_id)
    else:
        rt.jobs.submit(dispatch_event, event_id)


def dispatch_event(rt: Runtime, event_id: str) -> None:
    """The event to each endpoint that takes it: a delivery each, its first attempt sent."""
    with rt.db.session() as session:
        attempts = deliveries.fan_out(session, event_id, policy(rt.settings))
    if attempts:
        sender(rt).send(attempts)


def deliver(rt: Runtime, delivery_id: str) -> None:
    """The delivery's next attempt, if it is due and nobody else is making it."""
    attempt = _claim(rt, delivery_id)
    if attempt is not None:
        sender(rt).send([attempt])


def _claim(rt: Runtime, delivery_id: str) -> Outgoing | None:
    with rt.db.session() as session:
        return deliveries.claim(session, delivery_id, policy(rt.settings))


def deliver_now(rt: Runtime, delivery_ids: list[str]) -> None:
    """Queue the attempts of deliveries made due (committed already): a test, a redelivery."""
    for delivery_id in delivery_ids:
        try:
            rt.jobs.submit(deliver, delivery_id)
        except Exception:  # due and unclaimed: the relay queues it
            log.exception("delivery not queued; the relay will", extra={"id": delivery_id})


def relay(rt: Runtime) -> int:
    """Queue again what was lost on its way; safe on several workers at once (the claims
    decide who sends). Returns how many jobs it queued."""
    older_than = utcnow() - RELAY_AFTER
    with rt.db.session() as session:
        events = deliveries.undispatched(session, older_than, RELAY_BATCH)
        due = deliveries.due(session, older_than, RELAY_BATCH)
    for event_id in events:
        rt.jobs.submit(dispatch_event, event_id)
    for delivery_id in due:
        rt.jobs.submit(deliver, delivery_id)
    if events or due:
        log.warning("webhook work queued again", extra={"events": len(events), "due": len(due)})
    return len(events) + len(due)
