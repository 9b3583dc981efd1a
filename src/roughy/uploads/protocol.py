"""TUS 1.0.0 on the wire: versions, extensions, and the headers every answer carries."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roughy.errors import ApiError
from roughy.uploads.checksum import ALGORITHMS

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"

EXPOSED_HEADERS = [
    "Location",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Expires",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "X-Request-Id",
]
ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "Tus-Resumable",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Metadata",
    "Upload-Checksum",
    "Upload-Defer-Length",
    "Upload-Concat",
    "X-Request-Id",
    "X-Requested-With",
    "X-HTTP-Method-Override",
]


def http_date(value: datetime) -> str:
    """RFC 9110 date, e.g. ``Wed, 25 Jun 2014 16:00:00 GMT``."""
    return format_datetime(value.replace(microsecond=0), usegmt=True)


def offset_headers(offset: int, expires_at: datetime | None) -> dict[str, str]:
    """What a HEAD or PATCH answer says about where the upload stands."""
    headers = {"Upload-Offset": str(offset)}
    if expires_at is not None:
        headers["Upload-Expires"] = http_date(expires_at)
    return headers


def capabilities(max_size: int) -> dict[str, str]:
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": TUS_EXTENSIONS,
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(ALGORITHMS),
    }


def require_tus_resumable(headers: Headers) -> None:
    if headers.get("tus-resumable") != TUS_VERSION:
        raise ApiError(
            "precondition_failed",
            f"Send 'Tus-Resumable: {TUS_VERSION}'; it is the only version this server speaks.",
            headers={"Tus-Version": TUS_VERSION},
        )


def require_offset_content_type(headers: Headers) -> None:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != OFFSET_CONTENT_TYPE:
        raise ApiError(
            "unsupported_media_type",
            f"A PATCH body must be sent as 'Content-Type: {OFFSET_CONTENT_TYPE}'.",
        )


def non_negative_int(headers: Headers, name: str, *, required: bool) -> int | None:
    raw = headers.get(name)
    if raw is None:
        if required:
            raise ApiError(
                "bad_request",
                f"The {name} header is required.",
            )
        return None
    raw = raw.strip()
    # isdigit alone admits '²' and the like, which int() refuses
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) >= 2**63:
        raise ApiError(
            "bad_request",
            f"The {name} header must be a non-negative integer.",
        )
    return int(raw)


class TusResumableHeader:
    """Every answer under the upload path carries ``Tus-Resumable``, errors included (TUS 1.0.0)."""

    def __init__(self, app: ASGIApp, path_prefix: str) -> None:
        self.app = app
        self.prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"tus-resumable"]
                headers.append((b"tus-resumable", TUS_VERSION.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_version)
