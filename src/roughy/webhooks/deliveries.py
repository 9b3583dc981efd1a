"""Every change of a delivery's state: the fan-out of an event to its endpoints, the claim on
an attempt, and what an attempt's outcome does (delivered, retried later, failed, the endpoint
disabled). Each is one transaction of the caller's; the sending itself is in ``sender``."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from roughy.db import utcnow
from roughy.events.models import Event
from roughy.webhooks import signing
from roughy.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

JITTER = 0.2  # each retry waits its scheduled time ±20 %
MAX_ERROR = 512


@dataclass(frozen=True)
class Policy:
    """How deliveries are retried and endpoints given up on (from the settings)."""

    retry_schedule: tuple[float, ...]
    disable_after: timedelta
    lease: timedelta


@dataclass(frozen=True)
class Outgoing:
    """One attempt, claimed: everything the sender needs, apart from any session."""

    delivery_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    attempt: int
    url: str
    keys: tuple[str, ...]  # the secrets that sign it: the current one, then the previous
    body: bytes
    lease_until: datetime


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: a status code, or an error before any answer."""

    sent: Outgoing
    at: datetime
    status_code: int | None
    latency_ms: int | None
    error: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def fan_out(session: Session, event_id: str, policy: Policy) -> list[Outgoing]:
    """The event goes to every enabled endpoint of its account that takes its type: one
    delivery each, claimed for its first attempt. Nothing when it was dispatched already (or
    never committed)."""
    now = utcnow()
    taken = session.execute(
        update(Event)
        .where(Event.id == event_id, Event.dispatched_at.is_(None))
        .values(dispatched_at=now)
        .returning(Event.account_id, Event.type, Event.data)
    ).one_or_none()
    if taken is None:
        return []
    account_id, event_type, data = taken
    endpoints = [
        e
        for e in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.account_id == account_id, WebhookEndpoint.disabled.is_(False)
            )
        )
        if event_type in e.event_types
    ]
    body = signing.body(event_type, data)
    lease_until = now + policy.lease
    out = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(
            event_id=event_id,
            endpoint_id=endpoint.id,
            attempts=1,
            next_attempt_at=now,
            lease_until=lease_until,
        )
        session.add(delivery)
        session.flush()
        out.append(_outgoing(delivery, endpoint, event_type, body, now))
    return out


def claim(session: Session, delivery_id: str, policy: Policy) -> Outgoing | None:
    """Claim the delivery's next attempt if it is due and nobody holds it; counts the attempt.
    A delivery whose endpoint was disabled meanwhile fails here, unsent."""
    now = utcnow()
    row = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= now + timedelta(seconds=1),
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
        )
        .values(lease_until=now + policy.lease, attempts=WebhookDelivery.attempts + 1)
        .returning(WebhookDelivery.endpoint_id, WebhookDelivery.event_id)
    ).one_or_none()
    if row is None:
        return None
    endpoint = session.get(WebhookEndpoint, row.endpoint_id)
    event = session.get(Event, row.event_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if endpoint is None or event is None or delivery is None:
        return None
    if endpoint.disabled:
        _conclude(delivery, "failed", now)
        return None
    return _outgoing(delivery, endpoint, event.type, signing.body(event.type, event.data), now)


def _outgoing(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    event_type: str,
    body: bytes,
    now: datetime,
) -> Outgoing:
    assert delivery.lease_until is not None
    return Outgoing(
        delivery_id=delivery.id,
        endpoint_id=endpoint.id,
        event_id=delivery.event_id,
        event_type=event_type,
        attempt=delivery.attempts,
        url=endpoint.url,
        keys=signing_keys(endpoint, now),
        body=body,
        lease_until=delivery.lease_until,
    )


def signing_keys(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    """The current secret, and the one before a rotation while its overlap lasts."""
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and until > now:
        return (endpoint.secret, endpoint.previous_secret)
    return (endpoint.secret,)


def record(
    session: Session, outcomes: Sequence[Outcome], policy: Policy
) -> list[tuple[str, float]]:
    """The attempts' outcomes, in one transaction: each logged; each delivery delivered, failed
    or due again; endpoints that answered 410, or failed for too long, disabled. Returns the
    retries to schedule, as (delivery id, seconds from now)."""
    if not outcomes:
        return []
    endpoints = {
        e.id: e
        for e in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.id.in_({o.sent.endpoint_id for o in outcomes})
            )
        )
    }
    deliveries = {
        d.id: d
        for d in session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.id.in_({o.sent.delivery_id for o in outcomes})
            )
        )
    }
    retries = []
    for outcome in outcomes:
        delivery = deliveries.get(outcome.sent.delivery_id)
        endpoint = endpoints.get(outcome.sent.endpoint_id)
        if delivery is None or endpoint is None:
            continue  # removed meanwhile
        session.add(_logged(outcome))
        delay = _settle(delivery, endpoint, outcome, policy)
        if delay is not None:
            retries.append((delivery.id, delay))
    return retries


def _logged(outcome: Outcome) -> WebhookAttempt:
    sent = outcome.sent
    return WebhookAttempt(
        delivery_id=sent.delivery_id,
        endpoint_id=sent.endpoint_id,
        event_id=sent.event_id,
        event_type=sent.event_type,
        attempt=sent.attempt,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error[:MAX_ERROR] if outcome.error else None,
        created_at=outcome.at,
    )


def _settle(
    delivery: WebhookDelivery, endpoint: WebhookEndpoint, outcome: Outcome, policy: Policy
) -> float | None:
    """One outcome's effect; the seconds until the next attempt when there is one."""
    if delivery.lease_until != outcome.sent.lease_until or delivery.state != "pending":
        return None  # the claim lapsed and another attempt took over: that one decides
    now = outcome.at
    if outcome.delivered:
        _conclude(delivery, "delivered", now)
        endpoint.failing_since = None
        return None
    endpoint.failing_since = endpoint.failing_since or now
    if outcome.status_code == 410:
        disable(endpoint, "gone", now)
    elif now - endpoint.failing_since >= policy.disable_after:
        disable(endpoint, "failing", now)
    delay = retry_delay(delivery.attempts, outcome.retry_after, policy.retry_schedule)
    if endpoint.disabled or delay is None:
        _conclude(delivery, "failed", now)
        return None
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.lease_until = None
    return delay


def retry_delay(
    attempts: int, retry_after: float | None, schedule: Sequence[float]
) -> float | None:
    """Seconds before the next attempt after ``attempts`` failed ones, with jitter, and at
    least what the receiver asked for (``Retry-After``, up to the schedule's longest wait);
    None when the schedule is spent."""
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max(schedule)))
    return delay


def disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    if endpoint.disabled:
        return
    endpoint.disabled = True
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    endpoint.updated_at = now


def _conclude(delivery: WebhookDelivery, state: str, now: datetime) -> None:
    delivery.state = state
    delivery.lease_until = None
    delivery.concluded_at = now


def due(session: Session, older_than: datetime, limit: int) -> list[str]:
    """Deliveries due since before ``older_than`` that nobody holds: their scheduled retry was
    lost, or the worker sending them died."""
    now = utcnow()
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.state == "pending",
                WebhookDelivery.next_attempt_at < older_than,
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )


def undispatched(session: Session, older_than: datetime, limit: int) -> list[str]:
    """Events committed before ``older_than`` that were never handed to their endpoints."""
    return list(
        session.scalars(
            select(Event.id)
            .where(Event.dispatched_at.is_(None), Event.created_at < older_than)
            .order_by(Event.created_at)
            .limit(limit)
        )
    )


def reopen(session: Session, event: Event, endpoints: Iterable[WebhookEndpoint]) -> list[str]:
    """A fresh series of attempts of ``event`` to each endpoint, due now (a redelivery or a
    test): the delivery's earlier attempts stay in the log."""
    now = utcnow()
    ids = []
    for endpoint in endpoints:
        delivery = session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.event_id == event.id, WebhookDelivery.endpoint_id == endpoint.id
            )
        )
        if delivery is None:
            delivery = WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id)
            session.add(delivery)
        delivery.state = "pending"
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.lease_until = None
        delivery.concluded_at = None
        session.flush()
        ids.append(delivery.id)
    return ids
