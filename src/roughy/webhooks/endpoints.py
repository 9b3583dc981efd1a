from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response

from roughy.auth import CurrentAccount
from roughy.db import parse_id
from roughy.errors import error_responses, not_found
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import Page, PageParams, page_params, path_id
from roughy.webhooks import service
from roughy.webhooks.schemas import (
    AttemptOut,
    EndpointCreate,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
    EventOut,
    RedeliverIn,
    RedeliveryOut,
)

router = APIRouter(tags=["webhooks"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ENDPOINT = "Webhook endpoint"


@router.post(
    "/webhook-endpoints",
    status_code=201,
    response_model=EndpointWithSecret,
    responses=error_responses("validation_error"),
)
def create_endpoint(
    body: EndpointCreate, account: CurrentAccount, rt: RuntimeDep
) -> EndpointWithSecret:
    """Register a URL for events; the answer holds its signing `secret`, shown only here."""
    url = service.checked_url(body.url, allow_private=rt.settings.webhook_allow_private)
    event_types = service.checked_types(body.event_types)
    with rt.db.session() as session:
        endpoint = service.create(session, account, url, event_types, body.description)
        return EndpointWithSecret.model_validate(endpoint)


@router.get(
    "/webhook-endpoints",
    response_model=Page[EndpointOut],
    responses=error_responses("validation_error"),
)
def list_endpoints(
    account: CurrentAccount, rt: RuntimeDep, page: Annotated[PageParams, Depends(page_params)]
) -> Page[EndpointOut]:
    with rt.db.session() as session:
        rows, total = service.list_(session, account, page.limit, page.offset)
        return Page.of([EndpointOut.model_validate(r) for r in rows], total, page)


@router.get(
    "/webhook-endpoints/{endpoint_id}",
    response_model=EndpointOut,
    responses=error_responses("not_found"),
)
def get_endpoint(endpoint_id: str, account: CurrentAccount, rt: RuntimeDep) -> EndpointOut:
    """The endpoint; `disabled` and `disabled_reason` say whether events still go to it."""
    with rt.db.session() as session:
        endpoint = service.get(session, account, path_id(endpoint_id, ENDPOINT))
        return EndpointOut.model_validate(endpoint)


@router.patch(
    "/webhook-endpoints/{endpoint_id}",
    response_model=EndpointOut,
    responses=error_responses("not_found", "validation_error"),
)
def update_endpoint(
    endpoint_id: str, body: EndpointUpdate, account: CurrentAccount, rt: RuntimeDep
) -> EndpointOut:
    entity_id = path_id(endpoint_id, ENDPOINT)
    changes = body.model_dump(exclude_unset=True)
    for name in ("url", "event_types", "disabled"):
        if name in changes and changes[name] is None:
            del changes[name]  # null: unchanged
    if "url" in changes:
        changes["url"] = service.checked_url(
            changes["url"], allow_private=rt.settings.webhook_allow_private
        )
    if "event_types" in changes:
        changes["event_types"] = service.checked_types(changes["event_types"])
    with rt.db.session() as session:
        endpoint = service.update(session, account, entity_id, changes)
        return EndpointOut.model_validate(endpoint)


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses("not_found"),
)
def delete_endpoint(endpoint_id: str, account: CurrentAccount, rt: RuntimeDep) -> Response:
    """The endpoint goes, with its delivery log; nothing more is sent to it."""
    with rt.db.session() as session:
        service.delete(session, account, path_id(endpoint_id, ENDPOINT))
    return Response(status_code=204)


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response_model=EndpointWithSecret,
    responses=error_responses("not_found"),
)
def rotate_secret(endpoint_id: str, account: CurrentAccount, rt: RuntimeDep) -> EndpointWithSecret:
    """A new `secret` (shown only here); the old one keeps signing, as a second signature,
    for 24 hours (`ROUGHY_WEBHOOK_ROTATION_OVERLAP_SECONDS`)."""
    overlap = timedelta(seconds=rt.settings.webhook_rotation_overlap_seconds)
    with rt.db.session() as session:
        endpoint = service.rotate_secret(session, account, path_id(endpoint_id, ENDPOINT), overlap)
        return EndpointWithSecret.model_validate(endpoint)


@router.post(
    "/webhook-endpoints/{endpoint_id}/test",
    status_code=202,
    response_model=EventOut,
    responses=error_responses("not_found", "conflict"),
)
def send_test(endpoint_id: str, account: CurrentAccount, rt: RuntimeDep) -> EventOut:
    """Send a `webhook.test` event to this endpoint now (retried like any other); it goes to
    this endpoint alone, whatever its `event_types`."""
    with rt.db.session() as session:
        event = service.send_test(session, account, path_id(endpoint_id, ENDPOINT))
        return EventOut.model_validate(event)


@router.get(
    "/webhook-endpoints/{endpoint_id}/deliveries",
    response_model=Page[AttemptOut],
    responses=error_responses("not_found", "validation_error"),
)
def list_attempts(
    endpoint_id: str,
    account: CurrentAccount,
    rt: RuntimeDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[AttemptOut]:
    """Every attempt to this endpoint, newest first: when, the status code, the latency, and
    the error when no answer came."""
    with rt.db.session() as session:
        rows, total = service.attempts(
            session, account, path_id(endpoint_id, ENDPOINT), page.limit, page.offset
        )
        return Page.of([AttemptOut.model_validate(r) for r in rows], total, page)


@router.get("/events", response_model=Page[EventOut], responses=error_responses("validation_error"))
def list_events(
    account: CurrentAccount,
    rt: RuntimeDep,
    page: Annotated[PageParams, Depends(page_params)],
    type: Annotated[str | None, Query(description="Only events of this type.")] = None,
) -> Page[EventOut]:
    """The account's events, newest first: each is what its webhooks carry."""
    with rt.db.session() as session:
        rows, total = service.events(session, account, type, page.limit, page.offset)
        return Page.of([EventOut.model_validate(r) for r in rows], total, page)


@router.post(
    "/events/{event_id}/redeliver",
    status_code=202,
    response_model=RedeliveryOut,
    responses=error_responses("not_found", "conflict", "validation_error"),
)
def redeliver(
    event_id: str,
    account: CurrentAccount,
    rt: RuntimeDep,
    body: Annotated[RedeliverIn | None, Body()] = None,
) -> RedeliveryOut:
    """Send the event again (same `webhook-id`), as a fresh series of attempts."""
    target = body.endpoint_id if body is not None else None
    endpoint_id = None
    if target is not None:
        endpoint_id = parse_id(target)
        if endpoint_id is None:
            raise not_found(ENDPOINT)
    with rt.db.session() as session:
        event, endpoints = service.redeliver(
            session, account, path_id(event_id, "Event"), endpoint_id
        )
        return RedeliveryOut(event_id=event.id, endpoint_ids=[e.id for e in endpoints])
