"""Recording domain events, inside the transaction of the change they describe."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from roughy.events.models import Event


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
        account_id=account_id,
        type=type_,
        entity_id=entity_id,
        asset_id=asset_id,
        data={"entity_id": entity_id, "asset_id": asset_id, **data},
    )
    session.add(event)
    return event
