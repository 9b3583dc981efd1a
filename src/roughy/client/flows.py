"""The client's calls and waits as flows (see ``steps``): written once for both clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from roughy.client import operations as ops
from roughy.client.errors import (
    NotReady,
    ServerError,
    TransportFailed,
    UploadLocked,
    WaitTimedOut,
    check,
)
from roughy.client.models import (
    ASSET_SETTLED,
    CUT_SETTLED,
    RENDER_SETTLED,
    Asset,
    Cut,
    CutCreate,
    CutOptionsIn,
    Override,
    Page,
    Project,
    ProjectCreate,
    Render,
    RenderCreate,
    RenderOutputIn,
)
from roughy.client.steps import Call, Flow, Operation, Pause, Progress, Save

M = TypeVar("M", bound=BaseModel)
Query = Mapping[str, str | int | None]


def _given(query: Query) -> dict[str, str | int]:
    return {k: v for k, v in query.items() if v is not None}


def call(
    op: Operation,
    params: Mapping[str, str] | None = None,
    query: Query | None = None,
    body: BaseModel | None = None,
) -> Flow[httpx.Response]:
    """One request; its response if it succeeded, else its error raised."""
    response = yield Call(
        op,
        params=params or {},
        query=_given(query or {}),
        json=None if body is None else body.model_dump(mode="json", exclude_none=True),
    )
    return check(response)


def fetch(op: Operation, model: type[M], **kwargs: Any) -> Flow[M]:
    """One request and its JSON body read as ``model``."""
    response = yield from call(op, **kwargs)
    return model.model_validate_json(response.content)


def create_project(name: str) -> Flow[Project]:
    project: Project = yield from fetch(ops.CREATE_PROJECT, Project, body=ProjectCreate(name=name))
    return project


def list_page(op: Operation, model: type[M], query: Query) -> Flow[Page[M]]:
    page: Page[M] = yield from fetch(op, Page[model], query=query)  # type: ignore[valid-type]
    return page


def find_project(name: str) -> Flow[Project | None]:
    """The active project of this name (the newest if several), else None."""
    offset = 0
    while True:
        page = yield from list_page(ops.LIST_PROJECTS, Project, {"limit": 100, "offset": offset})
        for project in page.items:
            if project.name == name:
                return project
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return None


def create_cut(
    asset_id: str,
    script: str | None,
    options: CutOptionsIn | None,
    retry_until: float | None,
    overrides: Sequence[Override] | None = None,
) -> Flow[Cut]:
    """A cut (the existing one for a repeat). While the asset is still being prepared, with
    ``retry_until`` (a ``time.monotonic()``), asks again after the server's ``Retry-After``."""
    chosen = list(overrides) if overrides else None
    body = CutCreate(asset_id=asset_id, script=script, options=options, overrides=chosen)
    cut: Cut = yield from _while_not_ready(
        lambda: fetch(ops.CREATE_CUT, Cut, body=body), retry_until
    )
    return cut


def create_render(
    asset_id: str, cut_id: str | None, output: RenderOutputIn, retry_until: float | None
) -> Flow[Render]:
    body = RenderCreate(asset_id=asset_id, cut_id=cut_id, output=output)
    render: Render = yield from _while_not_ready(
        lambda: fetch(ops.CREATE_RENDER, Render, body=body), retry_until
    )
    return render


def _while_not_ready(attempt: Callable[[], Flow[M]], retry_until: float | None) -> Flow[M]:
    backoff = Backoff()
    while True:
        try:
            return (yield from attempt())
        except NotReady as exc:
            if retry_until is None or time.monotonic() >= retry_until:
                raise
            yield Pause(backoff.next(exc.retry_after, retry_until))


class Backoff:
    """Waits that grow from ``first`` by ``factor`` up to ``longest``; a server's
    ``Retry-After`` wins when it gives one; never past a deadline."""

    def __init__(self, first: float = 0.25, factor: float = 1.6, longest: float = 5.0) -> None:
        self.delay = first
        self.factor = factor
        self.longest = longest

    def next(self, retry_after: float | None = None, deadline: float | None = None) -> float:
        delay = retry_after if retry_after is not None else self.delay
        self.delay = min(self.delay * self.factor, self.longest)
        if deadline is not None:
            delay = min(delay, max(0.0, deadline - time.monotonic()))
        return delay


# Failures a poll outlives: the server restarting, a proxy's 502/503, a lock held a moment.
TRANSIENT = (TransportFailed, ServerError, UploadLocked)


def wait(
    get: Callable[[], Flow[M]],
    settled: frozenset[str],
    timeout: float | None,
    on_update: Callable[[M], None] | None = None,
) -> Flow[M]:
    """Polls ``get`` until the object's state is one of ``settled``, with backoff; the object
    as it settled. ``WaitTimedOut`` after ``timeout`` seconds (None: no limit)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    backoff = Backoff()
    while True:
        retry_after: float | None = None
        try:
            value = yield from get()
        except TRANSIENT as exc:
            retry_after = getattr(exc, "retry_after", None)
        else:
            if on_update is not None:
                on_update(value)
            if getattr(value, "state", None) in settled:
                return value
        if deadline is not None and time.monotonic() >= deadline:
            raise WaitTimedOut(f"Still not settled after {timeout:g} seconds.")
        yield Pause(backoff.next(retry_after, deadline))


def get_asset(asset_id: str) -> Flow[Asset]:
    asset: Asset = yield from fetch(ops.GET_ASSET, Asset, params={"asset_id": asset_id})
    return asset


def get_cut(cut_id: str) -> Flow[Cut]:
    cut: Cut = yield from fetch(ops.GET_CUT, Cut, params={"cut_id": cut_id})
    return cut


def get_render(render_id: str) -> Flow[Render]:
    render: Render = yield from fetch(ops.GET_RENDER, Render, params={"render_id": render_id})
    return render


def wait_asset(asset_id: str, timeout: float | None, on_update: Any = None) -> Flow[Asset]:
    return wait(lambda: get_asset(asset_id), ASSET_SETTLED, timeout, on_update)


def wait_cut(cut_id: str, timeout: float | None, on_update: Any = None) -> Flow[Cut]:
    return wait(lambda: get_cut(cut_id), CUT_SETTLED, timeout, on_update)


def wait_render(render_id: str, timeout: float | None, on_update: Any = None) -> Flow[Render]:
    return wait(lambda: get_render(render_id), RENDER_SETTLED, timeout, on_update)


def download(op: Operation, url: str | None, dest: Path, progress: Progress | None) -> Flow[Path]:
    """A signed download URL's file saved at ``dest``."""
    if url is None:
        raise ValueError("Nothing to download yet: the object has no download_url.")
    path: Path = yield Save(op, url, dest, progress)
    return path


def text(op: Operation, params: Mapping[str, str], query: Query) -> Flow[str]:
    response = yield from call(op, params=params, query=query)
    return response.text
