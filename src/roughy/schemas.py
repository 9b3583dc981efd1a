"""Shapes shared by every resource: timestamps, durations, list pages, a job's state fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import Query
from pydantic import AfterValidator, BaseModel, Field, PlainSerializer

from roughy.db import parse_id
from roughy.errors import not_found

T = TypeVar("T")


def storable(value: str) -> str:
    """Text every database keeps as it is: no NUL, no lone surrogate (neither survives UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


# A name people give to something: 1–256 characters of storable text.
Name = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(storable)]


def format_timestamp(value: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``: ``2026-05-02T08:54:52.423000Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_duration(milliseconds: int) -> str:
    """Seconds as a decimal string with exactly three decimals: ``"324.412"``."""
    return f"{milliseconds // 1000}.{milliseconds % 1000:03d}"


def format_seconds(value: float) -> str:
    """A time on a timeline, in seconds, as the API writes it: ``"1.230"``."""
    return format_duration(round(value * 1000))


Timestamp = Annotated[
    datetime, PlainSerializer(format_timestamp, return_type=str, when_used="always")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: list[T], total: int, page: PageParams) -> Page[T]:
        return cls(items=items, total=total, limit=page.limit, offset=page.offset)

    @classmethod
    def empty(cls, page: PageParams) -> Page[T]:
        """No match (e.g. a filter id that cannot exist)."""
        return cls(items=[], total=0, limit=page.limit, offset=page.offset)


class JobRow(Protocol):
    """What a resource made by a job stores about how the job went."""

    error_code: str | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class JobStateOut(BaseModel):
    """The fields of a resource made by a job: how it failed, and when it was ordered, started
    and concluded."""

    error_code: str | None
    error_message: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None

    @staticmethod
    def fields_of(row: JobRow) -> dict[str, Any]:
        return {
            "error_code": row.error_code,
            "error_message": row.error_message,
            "created_at": row.created_at,
            "started_at": row.started_at,
            "completed_at": row.completed_at,
        }


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


MAX_OFFSET = 2**53 - 1  # the largest integer every JSON client holds exactly; far below BIGINT


def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1–100.")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


def filter_ids(**raw: str | None) -> dict[str, str | None] | None:
    """A list's id filters in canonical form (None where not given); None when one of them
    cannot be an id, so nothing matches (an empty page, not a 422: ids are not probed)."""
    parsed = {name: parse_id(value) if value is not None else None for name, value in raw.items()}
    if any(raw[name] is not None and parsed[name] is None for name in raw):
        return None
    return parsed


def path_id(raw: str, what: str) -> str:
    """The canonical id from a path; a malformed one is as unknown as a missing one (404)."""
    value = parse_id(raw)
    if value is None:
        raise not_found(what)
    return value
