"""Signed download URLs (an HMAC over what is downloaded and an expiry, checked without a key),
and serving a stored object with ``Range``: assets and renders alike."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from roughy.errors import ApiError, error_responses
from roughy.runtime import Runtime
from roughy.storage.base import Presigning


def route(description: str) -> dict[str, Any]:
    """The route settings of a signed download (GET and HEAD): a stream, 200 or 206."""
    return {
        "response_class": StreamingResponse,
        "responses": {
            200: {"description": description, "content": {"application/octet-stream": {}}},
            206: {"description": "The requested byte range."},
            **error_responses("forbidden", "not_found", "range_not_satisfiable", auth=False),
        },
    }


def sign(key: bytes, subject: str, expires: int) -> str:
    """``subject``: what the URL gives, e.g. an asset id, or ``renders/<id>``."""
    return hmac.new(key, f"{subject}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_query(key: bytes, subject: str, ttl_seconds: int) -> str:
    expires = int(time.time()) + ttl_seconds
    return f"expires={expires}&signature={sign(key, subject, expires)}"


def signed_url(rt: Runtime, base: str, path: str, subject: str) -> str:
    """``base`` + ``path`` signed for ``subject``, valid for the configured time."""
    query = signed_query(rt.settings.signing_key, subject, rt.settings.download_url_ttl_seconds)
    return f"{base}{path}?{query}"


def verify(key: bytes, subject: str, expires: str, signature: str) -> bool:
    """True for an untampered URL that has not expired."""
    if not expires.isdigit() or len(expires) > 12:
        return False
    if not hmac.compare_digest(sign(key, subject, int(expires)), signature):
        return False
    return int(expires) >= time.time()


def check(rt: Runtime, subject: str, expires: str, signature: str) -> None:
    if not verify(rt.settings.signing_key, subject, expires, signature):
        raise ApiError("forbidden", "The download URL has expired or is not valid; fetch it again.")


def content_disposition(filename: str) -> str:
    """``attachment`` with the name in both RFC 6266 forms: ``filename`` in ASCII for old
    clients (anything else, quotes and backslashes as ``_``), ``filename*`` in UTF-8 (RFC 8187)
    for every client since."""
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in filename)
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    disposition = f'attachment; filename="{fallback}"'
    return disposition if encoded == filename else f"{disposition}; filename*=UTF-8''{encoded}"


def stream_object(
    rt: Runtime, request: Request, key: str, *, filename: str, media_type: str
) -> Response:
    """The stored object ``key``, whole or the one byte range asked for; to a ``HEAD``, the
    same headers and no body. A store that presigns its own URLs, set to, gets the client
    redirected there instead (``ROUGHY_S3_PRESIGNED_DOWNLOADS``): the bytes skip the API."""
    store = rt.store
    if isinstance(store, Presigning) and store.presigned_downloads:
        url = store.presigned_url(
            key,
            rt.settings.download_url_ttl_seconds,
            disposition=content_disposition(filename),
            content_type=media_type,
        )
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    size = store.object_size(key)
    try:
        wanted = parse_range(request.headers.get("range"), size)
    except ValueError:
        raise ApiError(
            "range_not_satisfiable",
            "The requested range lies outside the file.",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None
    start, end = wanted or (0, size)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start),
        "Content-Disposition": content_disposition(filename),
        "Cache-Control": "private, no-store",
    }
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    status = 206 if wanted is not None else 200
    head = request.method == "HEAD"
    return StreamingResponse(
        iter(()) if head else iterate_in_threadpool(store.read_object(key, start, end)),
        status_code=status,
        media_type=media_type,
        headers=headers,
    )


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a single ``bytes=`` range; None for the whole file.

    Raises ValueError when the range cannot be satisfied.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return (
            None  # unknown units and multi-range: answer with the whole file (RFC 9110 allows it)
        )
    first, _, last = spec.strip().partition("-")
    if not first.isdigit() and not (first == "" and last.isdigit()):
        return None
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size
    start = int(first)
    end = int(last) + 1 if last.isdigit() else size
    if start >= size or (last and not last.isdigit()):
        raise ValueError("range starts past the end")
    if end <= start:
        raise ValueError("range ends before it starts")
    return start, min(end, size)
