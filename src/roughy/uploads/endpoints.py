"""TUS 1.0.0 at /v1/uploads: OPTIONS, POST (creation, with upload), HEAD, PATCH, DELETE."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from roughy.accounts.models import Account
from roughy.assets.endpoints import upload_url
from roughy.assets.tasks import purge_asset_bytes
from roughy.db import parse_id
from roughy.errors import ApiError, error_responses
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import path_id
from roughy.storage.base import LocalPaths
from roughy.uploads import checksum, creation, recovery, service
from roughy.uploads import metadata as tus_metadata
from roughy.uploads.access import Caller, UploadCaller
from roughy.uploads.patch import receive_chunk
from roughy.uploads.protocol import (
    OFFSET_CONTENT_TYPE,
    capabilities,
    http_date,
    non_negative_int,
    offset_headers,
    require_offset_content_type,
    require_tus_resumable,
)

router = APIRouter(prefix="/uploads", tags=["uploads"])
HEAD_GRACE_SECONDS = 0.05  # how long a HEAD lets a running PATCH show that its client is gone
# A PATCH sees its client gone only once it has read what the client had sent; on a store across
# the network it reads at the pace of its part uploads (8 MiB and up each), so it gets longer.
REMOTE_HEAD_GRACE_SECONDS = 2.0
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


_TUS_HEADERS = {
    "Tus-Resumable": _header("Always `1.0.0`."),
    "Tus-Version": _header("Versions spoken: `1.0.0`."),
    "Tus-Extension": _header("`creation,creation-with-upload,termination,expiration,checksum`."),
    "Tus-Max-Size": _header("Largest upload in bytes (50 GiB)."),
    "Tus-Checksum-Algorithm": _header("`sha1,md5,sha256,crc32`."),
}
_OFFSET_HEADERS = {
    "Upload-Offset": _header("Bytes stored and acknowledged."),
    "Upload-Expires": _header("When the idle upload is reaped (RFC 9110 date)."),
    "Tus-Resumable": _header("Always `1.0.0`."),
}


def _tus_parameter(name: str, required: bool, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "schema": {"type": "string"},
        "description": description,
    }


_CHUNK_BODY = {"content": {OFFSET_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}}}
_CHECKSUM_PARAMETER = _tus_parameter(
    "Upload-Checksum", False, "`<sha1|md5|sha256|crc32> <base64 digest>` of this chunk."
)
# What a PATCH can answer; a creation with a first chunk answers the same, and what creating
# can answer.
_CHUNK_ERRORS = (
    "bad_request",
    "not_found",
    "conflict",
    "precondition_failed",
    "payload_too_large",
    "unsupported_media_type",
    "upload_locked",
    "checksum_mismatch",
    "insufficient_storage",
)


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
    upload_id: str, request: Request, caller: UploadCaller, rt: RuntimeDep
) -> Response:
    """The authoritative offset to resume from. A finished upload answers offset = length."""
    require_tus_resumable(request.headers)
    uid = path_id(upload_id, "Upload")
    grace = HEAD_GRACE_SECONDS if isinstance(rt.store, LocalPaths) else REMOTE_HEAD_GRACE_SECONDS
    await rt.locks.settled(uid, grace=grace, wait=rt.settings.upload_lock_wait_seconds)
    if recovery.pending(rt, uid):  # bytes a killed server wrote: counted before answering
        async with rt.locks.hold_if_free(uid) as free:
            if free:
                await run_in_threadpool(recovery.recover, rt, caller.account, uid)
    current = await run_in_threadpool(_status, rt, caller.account, uid)
    headers = offset_headers(current.offset, current.expires_at)
    headers.update({"Upload-Length": str(current.length), "Cache-Control": "no-store"})
    return Response(status_code=200, headers=headers)


@router.patch(
    "/{upload_id}",
    status_code=204,
    response_class=Response,
    openapi_extra={
        "requestBody": {"required": True, **_CHUNK_BODY},
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
            _CHECKSUM_PARAMETER,
        ],
    },
    responses={
        204: {"description": "Chunk stored and durable.", "headers": _OFFSET_HEADERS},
        **error_responses(*_CHUNK_ERRORS),
    },
)
async def patch_upload(
    upload_id: str, request: Request, caller: UploadCaller, rt: RuntimeDep
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
        caller.account,
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
    upload_id: str, request: Request, caller: UploadCaller, rt: RuntimeDep
) -> Response:
    """Cancel the upload and remove its asset. Idempotent."""
    require_tus_resumable(request.headers)
    uid = parse_id(upload_id)
    if uid is not None:
        async with rt.locks.hold(uid, rt.settings.upload_lock_wait_seconds):
            await run_in_threadpool(_terminate, rt, caller.account, uid)
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
    upload_id: str, request: Request, caller: UploadCaller, rt: RuntimeDep
) -> Response:
    """``POST`` with ``X-HTTP-Method-Override`` for clients behind proxies that block PATCH."""
    method = request.headers.get("x-http-method-override", "").upper()
    if method == "PATCH":
        return await patch_upload(upload_id, request, caller, rt)
    if method == "DELETE":
        return await terminate_upload(upload_id, request, caller, rt)
    raise ApiError("method_not_allowed", "POST is allowed here only as X-HTTP-Method-Override.")


@router.post(
    "",
    status_code=201,
    response_class=Response,
    openapi_extra={
        "requestBody": {"required": False, **_CHUNK_BODY},
        "parameters": [
            _tus_parameter("Tus-Resumable", True, "`1.0.0`."),
            _tus_parameter("Upload-Length", True, "The file's size in bytes (64 B – 50 GiB)."),
            _tus_parameter(
                "Upload-Metadata",
                False,
                "`key base64(value)` pairs, comma-separated: `project_id` (required with an "
                "API key), `filename`, `language`; `filetype` and others are ignored.",
            ),
            _CHECKSUM_PARAMETER,
        ],
    },
    responses={
        201: {
            "description": "Upload created (with its first chunk stored, if one was sent).",
            "headers": {
                "Location": _header("The absolute TUS upload URL; the asset id is its last part."),
                "Upload-Offset": _header("With a first chunk: the bytes stored."),
                "Upload-Expires": _header("When the idle upload is reaped (RFC 9110 date)."),
                "Tus-Resumable": _header("Always `1.0.0`."),
            },
        },
        **error_responses(*_CHUNK_ERRORS, "validation_error", "insufficient_credits"),
    },
)
@router.post("/", status_code=201, response_class=Response, include_in_schema=False)
async def create_upload(request: Request, caller: UploadCaller, rt: RuntimeDep) -> Response:
    """TUS creation: a new asset, as `POST /v1/assets` makes it, from `Upload-Length` and
    `Upload-Metadata`; with a body, its first chunk too (creation-with-upload). With an upload
    token, the token's own upload."""
    headers = request.headers
    require_tus_resumable(headers)
    if headers.get("upload-defer-length") is not None:
        raise ApiError(
            "bad_request",
            "Upload-Defer-Length is not supported; send Upload-Length, the file's size.",
        )
    length = non_negative_int(headers, "upload-length", required=True)
    assert length is not None
    metadata = tus_metadata.parse(headers.get("upload-metadata"))
    content_length = non_negative_int(headers, "content-length", required=False)
    with_body = bool(content_length) or "transfer-encoding" in headers
    if with_body:
        require_offset_content_type(headers)
    expected = checksum.parse(headers.get("upload-checksum")) if with_body else None
    asset_id, expires_at = await run_in_threadpool(_create, rt, caller, length, metadata)
    answer = {
        "Location": upload_url(rt, request, asset_id),
        "Upload-Expires": http_date(expires_at),
    }
    if with_body:
        outcome = await receive_chunk(
            rt,
            caller.account,
            asset_id,
            client_offset=0,
            content_length=content_length,
            checksum=expected,
            receive=request.receive,
        )
        answer.update(offset_headers(outcome.offset, outcome.expires_at))
    return Response(status_code=201, headers=answer)


def _create(
    rt: Runtime, caller: Caller, length: int, metadata: dict[str, str]
) -> tuple[str, datetime]:
    with rt.db.session() as session:
        if caller.token_upload is not None:
            asset, upload = creation.tokens_upload(session, caller.token_upload, length, metadata)
        else:
            asset, upload = creation.create(session, rt.settings, caller.account, length, metadata)
        return asset.id, upload.expires_at
