from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from roughy import downloads
from roughy.assets import service
from roughy.assets.models import Asset
from roughy.assets.schemas import AssetCreate, AssetDetail, AssetState, AssetSummary
from roughy.assets.tasks import removing
from roughy.auth import CurrentAccount
from roughy.db import parse_id
from roughy.errors import error_responses, not_found, validation_error
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import Page, PageParams, filter_ids, page_params, path_id
from roughy.uploads import tokens
from roughy.uploads.protocol import TUS_VERSION, http_date

router = APIRouter(prefix="/assets", tags=["assets"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def base_url(rt: Runtime, request: Request) -> str:
    return (rt.settings.public_url or str(request.base_url)).rstrip("/")


def upload_url(rt: Runtime, request: Request, asset_id: str) -> str:
    return f"{base_url(rt, request)}/v1/uploads/{asset_id}"


def detail(
    rt: Runtime, request: Request, asset: Asset, upload_token: str | None = None
) -> AssetDetail:
    up = upload_url(rt, request, asset.id) if asset.state == "pending_upload" else None
    down = None
    if asset.state == "ready":
        path = f"/v1/assets/{asset.id}/download"
        down = downloads.signed_url(rt, base_url(rt, request), path, asset.id)
    return AssetDetail.of_with_urls(asset, up, down, upload_token)


_CREATED_HEADERS: dict[str, Any] = {
    name: {"description": text, "schema": {"type": "string"}}
    for name, text in (
        ("Location", "The absolute TUS upload URL."),
        ("Upload-Expires", "When the idle upload is reaped (RFC 9110 date)."),
        ("Tus-Resumable", "`1.0.0`."),
    )
}


@router.post(
    "",
    status_code=201,
    response_model=AssetDetail,
    responses={
        201: {
            "description": "Asset created; stream its bytes to `Location`.",
            "headers": _CREATED_HEADERS,
        },
        **error_responses(
            "not_found",
            "conflict",
            "payload_too_large",
            "validation_error",
            "insufficient_credits",
        ),
    },
)
def create_asset(
    body: AssetCreate, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> JSONResponse:
    """Create an asset and open its TUS upload."""
    project_id = parse_id(body.project_id)
    if project_id is None:
        raise validation_error("body.project_id", "project_id must be a UUID.")
    with rt.db.session() as session:
        asset, upload = service.create(
            session,
            rt.settings,
            account,
            project_id,
            body.size_bytes,
            body.language,
            body.filename,
        )
    token = None
    if body.upload_token:
        token = tokens.mint(rt.settings.signing_key, asset.id, rt.settings.upload_token_ttl_seconds)
    out = detail(rt, request, asset, token)
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=201,
        headers={
            "Location": upload_url(rt, request, asset.id),
            "Upload-Expires": http_date(upload.expires_at),
            "Tus-Resumable": TUS_VERSION,
        },
    )


@router.get("", response_model=Page[AssetSummary], responses=error_responses("validation_error"))
def list_assets(
    account: CurrentAccount,
    rt: RuntimeDep,
    page: Annotated[PageParams, Depends(page_params)],
    project_id: Annotated[str | None, Query(description="Only this project's assets.")] = None,
    state: Annotated[AssetState | None, Query(description="Only assets in this state.")] = None,
) -> Page[AssetSummary]:
    parsed = filter_ids(project_id=project_id)
    if parsed is None:
        return Page.empty(page)
    with rt.db.session() as session:
        rows, total = service.list_(
            session,
            account,
            project_id=parsed["project_id"],
            state=state,
            limit=page.limit,
            offset=page.offset,
        )
        items = [AssetSummary.of(a) for a in rows]
    return Page.of(items, total, page)


@router.get("/{asset_id}", response_model=AssetDetail, responses=error_responses("not_found"))
def get_asset(
    asset_id: str, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> AssetDetail:
    """The asset, with a fresh signed `download_url` when ready."""
    with rt.db.session() as session:
        asset = service.get(session, account, path_id(asset_id, "Asset"))
    return detail(rt, request, asset)


@router.delete(
    "/{asset_id}", status_code=204, response_class=Response, responses=error_responses("not_found")
)
def delete_asset(asset_id: str, account: CurrentAccount, rt: RuntimeDep) -> Response:
    """Gone at once; its stored bytes are purged in the background."""
    with rt.db.session() as session:
        asset = service.get(session, account, path_id(asset_id, "Asset"))
        removing(rt, session, [asset.id])
        service.remove(session, asset)
    return Response(status_code=204)


_DOWNLOAD = downloads.route("The stored bytes.")


@router.get("/{asset_id}/download", **_DOWNLOAD)
@router.head("/{asset_id}/download", **_DOWNLOAD)
def download_asset(
    asset_id: str,
    request: Request,
    rt: RuntimeDep,
    expires: Annotated[str, Query()] = "",
    signature: Annotated[str, Query()] = "",
) -> Response:
    """The asset's bytes, by a signed URL from `download_url` (no key); supports `Range`, and
    `HEAD` for the headers alone. Named after the asset's `filename` when it has one."""
    aid = path_id(asset_id, "Asset")
    downloads.check(rt, aid, expires, signature)
    with rt.db.session() as session:
        asset = session.get(Asset, aid)
    if asset is None or asset.state != "ready":
        raise not_found("Asset")
    return downloads.stream_object(
        rt,
        request,
        asset.id,
        filename=asset.filename or f"{asset.id}.{asset.extension or 'bin'}",
        media_type=asset.content_type or "application/octet-stream",
    )
