"""TUS 1.0.0 at /v1/uploads: OPTIONS, HEAD, PATCH, DELETE (creation is POST /v1/assets)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from roughy.accounts.models import Account
from roughy.assets.tasks import purge_asset_bytes
from roughy.auth import CurrentAccount
from roughy.db import parse_id
from roughy.errors import ApiError, error_responses
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import path_id
from roughy.uploads import checksum, service
from roughy.uploads.patch import receive_chunk
from roughy.uploads.protocol import (
    OFFSET_CONTENT_TYPE,
    capabilities,
    non_negative_int,
    offset_headers,
    require_offset_content_type,
    require_tus_resumable,
)

router = APIRouter(prefix="/uploads", tags=["uploads"])
HEAD_GRACE_SECONDS = 0.05  # how long a HEAD lets a running PATCH show that its client is gone
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


_TUS_HEADERS = {
    "Tus-Resumable": _header("Always `1.0.0`."),
    "Tus-Version": _header("Versions spoken: `1.0.0`."),
    "Tus-Extension": _header("`termination,expiration,checksum`."),
    "Tus-Max-Size": _header("Largest upload in bytes (50 GiB)."),
    "Tus-Checksum-Algorithm": _header("`sha1,md5,sha256,crc32`."),
}
_OFFSET_HEADERS = {
    "Upload-Offset": _header("Bytes stored and acknowledged."),
    "Upload-Expires": _header("When the idle upload is reaped (RFC 9110 date)."),
    "Tus-Resumable": _header("Always `1.0.0`."),
}


@router.options(
    "", status_code=204, response_class=Response, responses={204: {"headers": _TUS_HEADERS}}
)
@router.options("/", status_code=204, response_class=Response, include_in_schema=False)
@router.options(
    "/{upload_id}",
    status_code=204,
    response_class=Response,
    responses={204: {"headers": _TUS_HEADERS}},
    include_in_schema=False,
)
def discover(rt: RuntimeDep) -> Response:
    """Capability discovery; no key needed."""
    return Response(status_code=204, headers=capabilities(rt.settings.max_upload_bytes))


@router.head(
    "/{upload_id}",
    status_code=200,
    response_class=Response,
    responses={
        200: {
            "description": "Where the upload stands.",
            "headers": {
                **_OFFSET_HEADERS,
                "Upload-Length": _header("The upload's total size."),
                "Cache-Control": _header("`no-store`."),
            },
        },
        **error_responses("not_found", "precondition_failed"),
    },
)
async def head_upload(
    upload_id: str, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> Response:
    """The authoritative offset to resume from. A finished upload answers offset = length."""
    require_tus_resumable(request.headers)
    uid = path_id(upload_id, "Upload")
    await rt.locks.settled(uid, grace=HEAD_GRACE_SECONDS, wait=rt.settings.upload_lock_wait_seconds)
    current = await run_in_threadpool(_status, rt, account, uid)
    headers = offset_headers(current.offset, current.expires_at)
    headers.update({"Upload-Length": str(current.length), "Cache-Control": "no-store"})
    return Response(status_code=200, headers=headers)


@router.patch(
    "/{upload_id}",
    status_code=204,
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {OFFSET_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        "parameters": [
            {
                "name": "Upload-Offset",
                "in": "header",
                "required": True,
                "schema": {"type": "integer"},
            },
            {
                "name": "Tus-Resumable",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            },
            {
                "name": "Upload-Checksum",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "`<sha1|md5|sha256|crc32> <base64 digest>` of this chunk.",
            },
        ],
    },
    responses={
        204: {"description": "Chunk stored and durable.", "headers": _OFFSET_HEADERS},
        **error_responses(
            "bad_request",
            "not_found",
            "conflict",
            "precondition_failed",
            "payload_too_large",
            "unsupported_media_type",
            "upload_locked",
            "checksum_mismatch",
            "insufficient_storage",
        ),
    },
)
async def patch_upload(
    upload_id: str, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> Response:
    """Append a chunk at `Upload-Offset`. The first chunk must be audio or video (≥ 64 bytes)."""
    headers = request.headers
    require_tus_resumable(headers)
    require_offset_content_type(headers)
    offset = non_negative_int(headers, "upload-offset", required=True)
    assert offset is not None
    content_length = non_negative_int(headers, "content-length", required=False)
    expected = checksum.parse(headers.get("upload-checksum"))
    outcome = await receive_chunk(
        rt,
        account,
        path_id(upload_id, "Upload"),
        client_offset=offset,
        content_length=content_length,
        checksum=expected,
        receive=request.receive,
    )
    return Response(status_code=204, headers=offset_headers(outcome.offset, outcome.expires_at))


@router.delete(
    "/{upload_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses("not_found", "conflict", "precondition_failed"),
)
async def terminate_upload(
    upload_id: str, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> Response:
    """Cancel the upload and remove its asset. Idempotent."""
    require_tus_resumable(request.headers)
    uid = parse_id(upload_id)
    if uid is not None:
        async with rt.locks.hold(uid, rt.settings.upload_lock_wait_seconds):
            await run_in_threadpool(_terminate, rt, account, uid)
    return Response(status_code=204)


def _status(rt: Runtime, account: Account, upload_id: str) -> service.UploadStatus:
    with rt.db.session() as session:
        return service.status(session, account, upload_id)


def _terminate(rt: Runtime, account: Account, upload_id: str) -> None:
    with rt.db.session() as session:
        if service.terminate(session, account, upload_id):
            rt.jobs.submit_on_commit(session, purge_asset_bytes, upload_id)


@router.post(
    "/{upload_id}",
    status_code=204,
    response_class=Response,
    include_in_schema=False,
)
async def overridden_method(
    upload_id: str, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> Response:
    """``POST`` with ``X-HTTP-Method-Override`` for clients behind proxies that block PATCH."""
    method = request.headers.get("x-http-method-override", "").upper()
    if method == "PATCH":
        return await patch_upload(upload_id, request, account, rt)
    if method == "DELETE":
        return await terminate_upload(upload_id, request, account, rt)
    raise ApiError("method_not_allowed", "POST is allowed here only as X-HTTP-Method-Override.")
