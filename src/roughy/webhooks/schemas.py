from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from roughy.schemas import Timestamp, storable

# The events of API.md §8, and the one an endpoint's test sends.
EVENT_TYPES = (
    "asset.ready",
    "asset.pending_payment",
    "asset.failed",
    "cut.completed",
    "cut.failed",
    "render.completed",
    "render.failed",
    "render.cancelled",
)
TEST_EVENT = "webhook.test"
DisabledReason = Literal["requested", "gone", "failing"]

Description = Annotated[str, Field(max_length=512), AfterValidator(storable)]
_URL = (
    "Where events are POSTed: https, on a public address (checked again at every attempt). "
    "`ROUGHY_WEBHOOK_ALLOW_PRIVATE` also allows http and private addresses."
)
_TYPES = "The events it receives: " + ", ".join(f"`{t}`" for t in EVENT_TYPES) + "."


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description=_URL)
    event_types: list[str] = Field(min_length=1, max_length=len(EVENT_TYPES), description=_TYPES)
    description: Description | None = None


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048, description=_URL)
    event_types: list[str] | None = Field(
        default=None, min_length=1, max_length=len(EVENT_TYPES), description=_TYPES
    )
    description: Description | None = None
    disabled: bool | None = Field(
        default=None,
        description="true stops deliveries to it; false enables it again (after a 410 or "
        "days of failures too).",
    )


class EndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str | None
    event_types: list[str]
    disabled: bool
    disabled_reason: DisabledReason | None = Field(
        description="Why it is disabled: `requested` (PATCH), `gone` (it answered 410), "
        "`failing` (every attempt failed for 5 days)."
    )
    disabled_at: Timestamp | None
    failing_since: Timestamp | None = Field(
        description="The first failed attempt since its last success; null when the last "
        "attempt succeeded."
    )
    created_at: Timestamp
    updated_at: Timestamp


class EndpointWithSecret(EndpointOut):
    secret: str = Field(
        description="`whsec_…`: verify each request's signature with it (Standard Webhooks). "
        "Shown only when the endpoint is made and when its secret is rotated."
    )


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="Sent as `webhook-id`: the same on every attempt.")
    type: str
    data: dict[str, Any] = Field(description="As delivered: `entity_id`, `asset_id`, …")
    created_at: Timestamp


class RedeliverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_id: str | None = Field(
        default=None,
        description="Only to this endpoint. Omitted: to every enabled endpoint that takes the "
        "event's type now, and to those it went to before.",
    )


class RedeliveryOut(BaseModel):
    event_id: str
    endpoint_ids: list[str] = Field(description="Where it is being sent again.")


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event_id: str
    event_type: str
    attempt: int = Field(description="1 for the first attempt of a delivery, then each retry.")
    status_code: int | None = Field(description="The endpoint's answer; null when none came.")
    latency_ms: int | None
    error: str | None = Field(description="Why the attempt failed before an answer.")
    created_at: Timestamp = Field(description="When the attempt was made.")
