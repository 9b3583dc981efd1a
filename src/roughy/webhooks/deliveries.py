"""Every change of a delivery's state: the fan-out of an event to its endpoints, the claim on
an attempt, and what an attempt's outcome does (delivered, retried later, failed, the endpoint
disabled). Each is one transaction of the caller's; the sending itself is in ``sender``."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from roughy.db import Base, new_id, utcnow
from roughy.events.models import Event
from roughy.webhooks import signing
from roughy.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

M = TypeVar("M", bound=Base)
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


Room = Callable[[str], int]  # room(endpoint_id): attempts the sender can take on for it now


def fan_out(session: Session, policy: Policy, limit: int, room: Room) -> list[Outgoing]:
    """The oldest events not yet dispatched (up to ``limit``; on PostgreSQL none another
    worker is taking) go to every enabled endpoint of their account that takes their type: one
    delivery each, due now. Those the sender has room for are claimed for their first attempt
    and returned; the rest wait for a later poll."""
    now = utcnow()
    oldest = (
        select(Event.id)
        .where(Event.dispatched_at.is_(None))
        .order_by(Event.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken = session.execute(
        update(Event)
        .where(Event.id.in_(oldest.scalar_subquery()), Event.dispatched_at.is_(None))
        .values(dispatched_at=now)
        .returning(Event.id, Event.account_id, Event.type, Event.data)
        .execution_options(synchronize_session=False)
    ).all()
    if not taken:
        return []
    endpoints = _enabled_endpoints(session, {row.account_id for row in taken})
    rows, out = [], []
    lease_until = now + policy.lease
    for event_id, account_id, event_type, data in taken:
        body = signing.body(event_type, data)
        for endpoint in endpoints.get(account_id, ()):
            if event_type not in endpoint.event_types:
                continue
            claimed = room(endpoint.id) > 0
            row = {
                "id": new_id(),
                "event_id": event_id,
                "endpoint_id": endpoint.id,
                "state": "pending",
                "attempts": 1 if claimed else 0,
                "next_attempt_at": now,
                "lease_until": lease_until if claimed else None,
                "created_at": now,
            }
            rows.append(row)
            if claimed:
                out.append(_sent(row, endpoint, event_type, body, now))
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return out


def _enabled_endpoints(session: Session, account_ids: set[str]) -> dict[str, list[WebhookEndpoint]]:
    found: dict[str, list[WebhookEndpoint]] = {}
    for endpoint in session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.account_id.in_(account_ids), WebhookEndpoint.disabled.is_(False)
        )
    ):
        found.setdefault(endpoint.account_id, []).append(endpoint)
    return found


def claim_due(
    session: Session, policy: Policy, limit: int, room: Room, full: set[str]
) -> list[Outgoing]:
    """Claim the deliveries due now that nobody holds (a retry's time came, a worker died
    mid-attempt, a test or redelivery), oldest first, as far as the sender has room for their
    endpoints (``full``: those it has none for); counts each attempt."""
    now = utcnow()
    due = select(WebhookDelivery.id, WebhookDelivery.endpoint_id).where(
        WebhookDelivery.state == "pending",
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
    )
    if full:
        due = due.where(WebhookDelivery.endpoint_id.not_in(full))
    candidates = session.execute(
        due.order_by(WebhookDelivery.next_attempt_at).limit(limit).with_for_update(skip_locked=True)
    ).all()
    left: dict[str, int] = {}
    chosen = []
    for delivery_id, endpoint_id in candidates:
        if endpoint_id not in left:
            left[endpoint_id] = room(endpoint_id)
        if left[endpoint_id] > 0:
            left[endpoint_id] -= 1
            chosen.append(delivery_id)
    return _claim(session, chosen, policy, now)


def claim(session: Session, delivery_id: str, policy: Policy) -> Outgoing | None:
    """Claim this delivery's next attempt if it is due and nobody holds it."""
    found = _claim(session, [delivery_id], policy, utcnow())
    return found[0] if found else None


def _claim(session: Session, ids: list[str], policy: Policy, now: datetime) -> list[Outgoing]:
    """Lease the deliveries among ``ids`` still due and free; a delivery whose endpoint was
    disabled meanwhile fails here, unsent."""
    if not ids:
        return []
    lease_until = now + policy.lease
    claimed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_(ids),
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= now + timedelta(seconds=1),
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
        )
        .values(lease_until=lease_until, attempts=WebhookDelivery.attempts + 1)
        .returning(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.event_id,
            WebhookDelivery.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    endpoints = _by_id(session, WebhookEndpoint, {row.endpoint_id for row in claimed})
    events = _by_id(session, Event, {row.event_id for row in claimed})
    out = []
    for delivery_id, endpoint_id, event_id, attempts in claimed:
        endpoint, event = endpoints.get(endpoint_id), events.get(event_id)
        if endpoint is None or event is None:
            continue
        if endpoint.disabled:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(state="failed", lease_until=None, concluded_at=now)
            )
            continue
        row = {
            "id": delivery_id,
            "event_id": event_id,
            "attempts": attempts,
            "lease_until": lease_until,
        }
        out.append(_sent(row, endpoint, event.type, signing.body(event.type, event.data), now))
    return out


def _by_id(session: Session, model: type[M], ids: set[str]) -> dict[str, M]:
    column = getattr(model, "id")  # noqa: B009
    rows = session.scalars(select(model).where(column.in_(ids)))
    return {getattr(row, "id"): row for row in rows}  # noqa: B009


def _sent(
    row: Mapping[str, Any],
    endpoint: WebhookEndpoint,
    event_type: str,
    body: bytes,
    now: datetime,
) -> Outgoing:
    return Outgoing(
        delivery_id=row["id"],
        endpoint_id=endpoint.id,
        event_id=row["event_id"],
        event_type=event_type,
        attempt=row["attempts"],
        url=endpoint.url,
        keys=signing_keys(endpoint, now),
        body=body,
        lease_until=row["lease_until"],
    )


def signing_keys(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    """The current secret, and the one before a rotation while its overlap lasts."""
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and until > now:
        return (endpoint.secret, endpoint.previous_secret)
    return (endpoint.secret,)


def record(session: Session, outcomes: Sequence[Outcome], policy: Policy) -> None:
    """The attempts' outcomes, in one transaction: each logged; each delivery delivered, failed
    or due again later, unless its claim was taken over meanwhile (a lapsed claim, a
    redelivery: the newer attempt decides); endpoints that answered 410, or failed for too
    long, disabled."""
    if not outcomes:
        return
    endpoints = _by_id(session, WebhookEndpoint, {o.sent.endpoint_id for o in outcomes})
    live = set(
        session.scalars(
            select(WebhookDelivery.id).where(
                WebhookDelivery.id.in_({o.sent.delivery_id for o in outcomes})
            )
        )
    )
    logged, changes = [], []
    for outcome in outcomes:
        endpoint = endpoints.get(outcome.sent.endpoint_id)
        if endpoint is None or outcome.sent.delivery_id not in live:
            continue  # removed meanwhile, with its log
        logged.append(_logged(outcome))
        changes.append(_settle(endpoint, outcome, policy))
    if changes:
        session.execute(insert(WebhookAttempt), logged)
        session.execute(_SETTLE, changes)


_deliveries = cast(Table, WebhookDelivery.__table__)
# A delivery's next state, only if the attempt's claim is still the one it holds.
_SETTLE = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("b_id"),
        _deliveries.c.lease_until == bindparam("b_lease"),
        _deliveries.c.state == "pending",
    )
    .values(
        state=bindparam("b_state"),
        lease_until=None,
        next_attempt_at=bindparam("b_next"),
        concluded_at=bindparam("b_concluded"),
    )
)


def _logged(outcome: Outcome) -> dict[str, Any]:
    """The attempt's row in the endpoint's log."""
    sent = outcome.sent
    return {
        "id": new_id(),
        "delivery_id": sent.delivery_id,
        "endpoint_id": sent.endpoint_id,
        "event_id": sent.event_id,
        "event_type": sent.event_type,
        "attempt": sent.attempt,
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "error": outcome.error[:MAX_ERROR] if outcome.error else None,
        "created_at": outcome.at,
    }


def _settle(endpoint: WebhookEndpoint, outcome: Outcome, policy: Policy) -> dict[str, Any]:
    """One outcome's effect on its endpoint, and its delivery's next state (``_SETTLE``'s
    parameters): delivered, failed for good, or due again after its delay."""
    now = outcome.at
    change = {
        "b_id": outcome.sent.delivery_id,
        "b_lease": outcome.sent.lease_until,
        "b_state": "pending",
        "b_next": now,
        "b_concluded": None,
    }
    if outcome.delivered:
        endpoint.failing_since = None
        return {**change, "b_state": "delivered", "b_concluded": now}
    endpoint.failing_since = endpoint.failing_since or now
    if outcome.status_code == 410:
        disable(endpoint, "gone", now)
    elif now - endpoint.failing_since >= policy.disable_after:
        disable(endpoint, "failing", now)
    delay = retry_delay(outcome.sent.attempt, outcome.retry_after, policy.retry_schedule)
    if endpoint.disabled or delay is None:
        return {**change, "b_state": "failed", "b_concluded": now}
    return {**change, "b_next": now + timedelta(seconds=delay)}


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


def reopen(session: Session, event: Event, endpoints: Iterable[WebhookEndpoint]) -> None:
    """A fresh series of attempts of ``event`` to each endpoint, due now (a redelivery or a
    test): the delivery's earlier attempts stay in the log. Every field is written, whatever
    this session read: an attempt concluding meanwhile must not leave half of its state."""
    now = utcnow()
    fresh = {
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "concluded_at": None,
    }
    for endpoint in endpoints:
        reset = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.event_id == event.id, WebhookDelivery.endpoint_id == endpoint.id)
            .values(**fresh)
            .execution_options(synchronize_session=False)
        )
        if not reset.rowcount:  # type: ignore[attr-defined]
            session.execute(
                insert(WebhookDelivery),
                [{"id": new_id(), "event_id": event.id, "endpoint_id": endpoint.id,
                  "created_at": now, **fresh}],
            )  # fmt: skip
