from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from roughy import downloads
from roughy.assets.endpoints import base_url
from roughy.assets.models import Asset
from roughy.auth import CurrentAccount
from roughy.db import parse_id
from roughy.errors import ApiError, error_responses, not_found
from roughy.media.presets import FORMATS
from roughy.renders import service, tasks
from roughy.renders.models import Render
from roughy.renders.schemas import RenderCreate, RenderOut, RenderState, output_fields
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import Page, PageParams, filter_ids, page_params, path_id

router = APIRouter(prefix="/renders", tags=["renders"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _subject(render_id: str) -> str:
    return f"renders/{render_id}"  # what a render's download URL is signed for


def _out(rt: Runtime, request: Request, render: Render) -> RenderOut:
    url = None
    if render.state == "completed":
        path = f"/v1/renders/{render.id}/download"
        url = downloads.signed_url(rt, base_url(rt, request), path, _subject(render.id))
    return RenderOut.of(render, url)


@router.post(
    "",
    status_code=201,
    response_model=RenderOut,
    responses={
        200: {
            "description": "These inputs were rendered (or are being): that render.",
            "model": RenderOut,
        },
        201: {
            "description": "A new render; it is made in the background.",
            "headers": {
                "Location": {"description": "The render's URL.", "schema": {"type": "string"}}
            },
        },
        **error_responses(
            "not_found",
            "asset_processing",
            "asset_payment_required",
            "asset_failed",
            "cut_processing",
            "cut_failed",
            "validation_error",
        ),
    },
)
def create_render(
    body: RenderCreate, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> JSONResponse:
    """Render an asset, whole or as one of its cuts, to a file (free)."""
    asset_id = parse_id(body.asset_id)
    cut_id = parse_id(body.cut_id) if body.cut_id is not None else None
    if asset_id is None:
        raise not_found("Asset")
    if body.cut_id is not None and cut_id is None:
        raise not_found("Cut")
    output = output_fields(body.output)
    with rt.db.session() as session:
        asset, cut = service.orderable(session, account, asset_id, cut_id, output)
        render, created = service.create(session, asset, cut, output)
        if created:
            tasks.order(rt, session, render)
    out = _out(rt, request, render).model_dump(mode="json")
    if not created:
        return JSONResponse(out, status_code=200)
    location = f"{base_url(rt, request)}/v1/renders/{render.id}"
    return JSONResponse(out, status_code=201, headers={"Location": location})


@router.get("", response_model=Page[RenderOut], responses=error_responses("validation_error"))
def list_renders(
    request: Request,
    account: CurrentAccount,
    rt: RuntimeDep,
    page: Annotated[PageParams, Depends(page_params)],
    asset_id: Annotated[str | None, Query(description="Only this asset's renders.")] = None,
    cut_id: Annotated[str | None, Query(description="Only this cut's renders.")] = None,
    state: Annotated[RenderState | None, Query(description="Only renders in this state.")] = None,
) -> Page[RenderOut]:
    parsed = filter_ids(asset_id=asset_id, cut_id=cut_id)
    if parsed is None:
        return Page.empty(page)
    with rt.db.session() as session:
        rows, total = service.list_(
            session,
            account,
            asset_id=parsed["asset_id"],
            cut_id=parsed["cut_id"],
            state=state,
            limit=page.limit,
            offset=page.offset,
        )
    return Page.of([_out(rt, request, r) for r in rows], total, page)


@router.get("/{render_id}", response_model=RenderOut, responses=error_responses("not_found"))
def get_render(
    render_id: str, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> RenderOut:
    """The render, with a fresh signed `download_url` once completed."""
    with rt.db.session() as session:
        render = service.get(session, account, path_id(render_id, "Render"))
    return _out(rt, request, render)


@router.post(
    "/{render_id}/cancel",
    response_model=RenderOut,
    responses=error_responses("not_found", "conflict"),
)
def cancel_render(
    render_id: str, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> RenderOut:
    """Stop a pending or processing render (ours): it becomes `cancelled` and its encoder
    stops within 2 seconds; no file is left. A concluded render answers 409."""
    with rt.db.session() as session:
        render = service.cancel(session, account, path_id(render_id, "Render"))
    return _out(rt, request, render)


_DOWNLOAD = downloads.route("The rendered file.")


@router.get("/{render_id}/download", **_DOWNLOAD)
@router.head("/{render_id}/download", **_DOWNLOAD)
def download_render(
    render_id: str,
    request: Request,
    rt: RuntimeDep,
    expires: Annotated[str, Query()] = "",
    signature: Annotated[str, Query()] = "",
) -> Response:
    """The rendered file, by a signed URL from `download_url` (no key); supports `Range`."""
    rid = path_id(render_id, "Render")
    downloads.check(rt, _subject(rid), expires, signature)
    with rt.db.session() as session:
        render = session.get(Render, rid)
        asset = session.get(Asset, render.asset_id) if render is not None else None
    if render is None or render.state != "completed":
        raise not_found("Render")
    try:
        return downloads.stream_object(
            rt,
            request,
            service.object_key(render.id),
            filename=service.filename(render, asset.filename if asset is not None else None),
            media_type=FORMATS[render.output["format"]].content_type,
        )
    except FileNotFoundError:
        raise ApiError("not_found", "Render not found.") from None
