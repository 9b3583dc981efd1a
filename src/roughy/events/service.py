"""The outbox: domain events, recorded inside the transaction of the change they describe.

A state change emits its event with one call, ``record(session, ...)``, in its own
transaction: the event exists exactly when the change does (a rolled-back change leaves none).
Once that transaction commits, the process's announcer (``ANNOUNCE`` in the session's ``info``,
installed by the runtime) is told the event's id, so that delivery starts at once; an event
whose announcement is lost (a process killed right after its commit, a queue that lost the
job, a process without an announcer such as the command line) is found again by the relay,
which looks for events not yet dispatched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from roughy.db import new_id
from roughy.events.models import Event

log = logging.getLogger("roughy.events")

# session.info key: a callable given the id of each event the session's transaction committed.
ANNOUNCE = "roughy.events.announce"
# The topic the runtime's announcer publishes on the job queue, with the event's id.
RECORDED = "event.recorded"
Announce = Callable[[str], None]


def record(
    session: Session,
    account_id: str,
    type_: str,
    entity_id: str,
    *,
    asset_id: str | None = None,
    **data: Any,
) -> Event:
    event = Event(
        id=new_id(),
        account_id=account_id,
        type=type_,
        entity_id=entity_id,
        asset_id=asset_id,
        data={"entity_id": entity_id, "asset_id": asset_id, **data},
    )
    session.add(event)
    announce_on_commit(session, event.id)
    return event


def announce_on_commit(session: Session, event_id: str) -> None:
    """Tell the session's announcer about ``event_id`` once the transaction commits (never if
    it rolls back)."""
    announce: Announce | None = session.info.get(ANNOUNCE)
    if announce is None:
        return

    def after_commit(_: Session) -> None:
        try:
            announce(event_id)
        except Exception:  # the change is committed: the relay will find the event
            log.exception("event not announced; the relay will send it", extra={"event": event_id})

    orm_event.listen(session, "after_commit", after_commit, once=True)
