"""Webhook endpoints and the account's events: registering, changing, rotating, testing, and
sending an event again. Deliveries themselves change state in ``deliveries``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.db import new_id, owned, paginate, utcnow
from roughy.errors import ApiError, validation_error
from roughy.events.models import Event
from roughy.webhooks import addresses, deliveries, signing
from roughy.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from roughy.webhooks.schemas import EVENT_TYPES, TEST_EVENT


def checked_url(url: str, *, allow_private: bool) -> str:
    """The URL, if webhooks may be sent there (``addresses``); else a 422 naming it."""
    try:
        return addresses.check(url, allow_private=allow_private)
    except addresses.Refused as exc:
        raise validation_error("body.url", f"The URL {exc}.") from None


def checked_types(event_types: Sequence[str]) -> list[str]:
    """The event types, each once, in the catalogue's order; unknown ones: a 422 naming them."""
    unknown = sorted({t for t in event_types if t not in EVENT_TYPES})
    if unknown:
        raise validation_error(
            "body.event_types",
            f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}.",
        )
    return [t for t in EVENT_TYPES if t in event_types]


def create(
    session: Session,
    account: Account,
    url: str,
    event_types: list[str],
    description: str | None,
) -> WebhookEndpoint:
    """A new endpoint with a new secret; ``url`` and ``event_types`` checked by the caller."""
    endpoint = WebhookEndpoint(
        account_id=account.id,
        url=url,
        event_types=event_types,
        description=description,
        secret=signing.new_secret(),
        disabled=False,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def get(session: Session, account: Account, endpoint_id: str) -> WebhookEndpoint:
    return owned(session, WebhookEndpoint, endpoint_id, account.id, "Webhook endpoint")


def list_(
    session: Session, account: Account, limit: int, offset: int
) -> tuple[list[WebhookEndpoint], int]:
    return paginate(
        session, WebhookEndpoint, [WebhookEndpoint.account_id == account.id], limit, offset
    )


def update(
    session: Session,
    account: Account,
    endpoint_id: str,
    changes: dict[str, object],
) -> WebhookEndpoint:
    """Apply the fields given (url and event_types checked by the caller); ``disabled`` false
    enables it again and forgets its failures."""
    endpoint = get(session, account, endpoint_id)
    now = utcnow()
    for name in ("url", "event_types", "description"):
        if name in changes:
            setattr(endpoint, name, changes[name])
    disabled = changes.get("disabled")
    if disabled is True:
        deliveries.disable(endpoint, "requested", now)
    elif disabled is False:
        endpoint.disabled = False
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.failing_since = None
    endpoint.updated_at = now
    return endpoint


def delete(session: Session, account: Account, endpoint_id: str) -> None:
    """The endpoint, its deliveries and their log go."""
    session.delete(get(session, account, endpoint_id))


def rotate_secret(
    session: Session, account: Account, endpoint_id: str, overlap: timedelta
) -> WebhookEndpoint:
    """A new secret signs from now on; the current one signs too, as a second signature, for
    ``overlap`` (a secret from an earlier rotation stops)."""
    endpoint = get(session, account, endpoint_id)
    now = utcnow()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + overlap
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = now
    return endpoint


def attempts(
    session: Session, account: Account, endpoint_id: str, limit: int, offset: int
) -> tuple[list[WebhookAttempt], int]:
    """The endpoint's delivery log: every attempt, newest first."""
    endpoint = get(session, account, endpoint_id)
    return paginate(
        session, WebhookAttempt, [WebhookAttempt.endpoint_id == endpoint.id], limit, offset
    )


def events(
    session: Session, account: Account, type_: str | None, limit: int, offset: int
) -> tuple[list[Event], int]:
    where = [Event.account_id == account.id]
    if type_ is not None:
        where.append(Event.type == type_)
    return paginate(session, Event, where, limit, offset)


def send_test(session: Session, account: Account, endpoint_id: str) -> Event:
    """A ``webhook.test`` event for this endpoint alone, due now."""
    endpoint = _enabled(get(session, account, endpoint_id))
    now = utcnow()
    event = Event(
        id=new_id(),
        account_id=account.id,
        type=TEST_EVENT,
        entity_id=endpoint.id,
        asset_id=None,
        data={"entity_id": endpoint.id, "asset_id": None},
        created_at=now,
        dispatched_at=now,  # it goes to this endpoint only
    )
    session.add(event)
    session.flush()
    deliveries.reopen(session, event, [endpoint])
    return event


def redeliver(
    session: Session, account: Account, event_id: str, endpoint_id: str | None
) -> tuple[Event, list[WebhookEndpoint]]:
    """The event again, as a fresh series of attempts: to one endpoint, or to every enabled
    endpoint that takes it now or was sent it before. Its id stays: receivers dedupe on it."""
    event = owned(session, Event, event_id, account.id, "Event")
    if endpoint_id is not None:
        targets = [_enabled(get(session, account, endpoint_id))]
    else:
        targets = _meant_for(session, event)
        if not targets:
            raise ApiError("conflict", "No enabled webhook endpoint takes this event.")
    deliveries.reopen(session, event, targets)
    return event, targets


def _meant_for(session: Session, event: Event) -> list[WebhookEndpoint]:
    sent_to = select(WebhookDelivery.endpoint_id).where(WebhookDelivery.event_id == event.id)
    endpoints = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.account_id == event.account_id, WebhookEndpoint.disabled.is_(False))
        .order_by(WebhookEndpoint.created_at)
    )
    before = set(session.scalars(sent_to))
    return [e for e in endpoints if e.id in before or event.type in e.event_types]


def _enabled(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    if endpoint.disabled:
        raise ApiError(
            "conflict", "The webhook endpoint is disabled; enable it first (disabled: false)."
        )
    return endpoint
