"""The API's error envelope as exceptions: one class per kind of trouble a program handles
differently, the envelope's ``code`` and ``message`` always on it.

``{"error": {"code": "not_found", "message": "...", "fields": [...]}}`` → ``NotFound``;
a code the client does not know yet → the class of its HTTP status, else ``ApiError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class RoughyError(Exception):
    """Anything the client could not do."""


class ApiError(RoughyError):
    """The server answered with its error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[FieldError] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        detail = "; ".join(f"{f.field}: {f.message}" for f in self.fields)
        return f"{self.message} ({detail})" if detail else self.message


class BadRequest(ApiError):
    """400 (and 412, 415): the request is malformed."""


class Unauthenticated(ApiError):
    """401: no key, or an unknown or revoked one."""


class InsufficientCredits(ApiError):
    """402: the balance cannot start another asset."""


class Forbidden(ApiError):
    """403: an expired or tampered signed URL."""


class NotFound(ApiError):
    """404: missing, deleted, or not this account's."""


class Conflict(ApiError):
    """409: the state does not allow it (including unsupported media on the first chunk)."""


class NotReady(Conflict):
    """409 ``asset_processing`` / ``cut_processing``: try again after ``retry_after``."""


class AssetFailed(Conflict):
    """409 ``asset_failed`` / ``asset_payment_required`` / ``cut_failed``: it never will be."""


class UploadInterrupted(Conflict):
    """409 ``upload_interrupted``: another request took the upload over, or it went idle."""


class PayloadTooLarge(ApiError):
    """413: over the declared length, or over 50 GiB."""


class ValidationFailed(ApiError):
    """422: a field failed validation (``fields`` says which)."""


class UploadLocked(ApiError):
    """423: another request is writing this upload right now."""


class ServerError(ApiError):
    """5xx: the server failed (``insufficient_storage`` included)."""


class TransportFailed(RoughyError):
    """The server could not be reached, or the connection dropped."""


class WaitTimedOut(RoughyError):
    """A wait ran past its timeout before the object settled."""


class JobFailed(RoughyError):
    """What was waited for settled in failure (an asset ``failed``, a cut or render ``failed``
    or ``cancelled``); ``value`` is the object as it ended."""

    def __init__(self, message: str, value: object) -> None:
        super().__init__(message)
        self.value = value


_BY_CODE: dict[str, type[ApiError]] = {
    "asset_processing": NotReady,
    "cut_processing": NotReady,
    "asset_failed": AssetFailed,
    "asset_payment_required": AssetFailed,
    "cut_failed": AssetFailed,
    "upload_interrupted": UploadInterrupted,
    "validation_error": ValidationFailed,
    "insufficient_credits": InsufficientCredits,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthenticated,
    402: InsufficientCredits,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: BadRequest,
    413: PayloadTooLarge,
    415: BadRequest,
    422: ValidationFailed,
    423: UploadLocked,
}


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), if the server sent it."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def from_response(response: httpx.Response) -> ApiError:
    """The exception for an error response (its envelope; a bare status when it has none)."""
    code, message, fields = _envelope(response)
    cls = _BY_CODE.get(code) or _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else ApiError
    return cls(
        response.status_code,
        code,
        message,
        fields,
        response.headers.get("x-request-id"),
        retry_after(response),
    )


def _envelope(response: httpx.Response) -> tuple[str, str, list[FieldError]]:
    fallback = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    try:
        error = response.json()["error"]
        fields = [FieldError(str(f["field"]), str(f["message"])) for f in error.get("fields") or []]
        return str(error["code"]), str(error["message"]), fields
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"http_{response.status_code}", fallback, []


def check(response: httpx.Response) -> httpx.Response:
    """The response if it succeeded; else its error raised."""
    if response.is_success:
        return response
    raise from_response(response)
