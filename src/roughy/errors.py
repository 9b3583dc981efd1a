"""The error envelope of the API and the exceptions that produce it.

Every error leaves the service as ``{"error": {"code", "message", "fields"}}``; the codes and
statuses are the contract's (API.md §0). Services raise :class:`ApiError`; nothing else needs to
know about HTTP statuses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("roughy.errors")

STATUS_OF: dict[str, int] = {
    "bad_request": 400,
    "unauthenticated": 401,
    "insufficient_credits": 402,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "asset_processing": 409,
    "asset_payment_required": 409,
    "asset_failed": 409,
    "cut_processing": 409,
    "cut_failed": 409,
    "upload_interrupted": 409,
    "precondition_failed": 412,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "range_not_satisfiable": 416,
    "validation_error": 422,
    "upload_locked": 423,
    "checksum_mismatch": 460,
    "internal_error": 500,
    "service_unavailable": 503,
    "insufficient_storage": 507,
}

# The framework raises bare statuses; these are the codes we give them.
CODE_OF_STATUS: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "validation_error",
}


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldError] | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """An error the client caused (or may retry), in the contract's terms."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = STATUS_OF[code]
        self.message = message
        self.fields = list(fields) if fields is not None else None
        self.headers = dict(headers or {})


def not_found(what: str = "Resource") -> ApiError:
    return ApiError("not_found", f"{what} not found.")


def validation_error(field: str, message: str) -> ApiError:
    return ApiError(
        "validation_error",
        "The request failed validation.",
        fields=[FieldError(field=field, message=message)],
    )


def envelope(code: str, message: str, fields: Sequence[FieldError] | None = None) -> bytes:
    body = ErrorEnvelope(error=ErrorBody(code=code, message=message, fields=fields))
    return body.model_dump_json(exclude_none=True).encode()


def error_response(
    code: str,
    message: str,
    *,
    status: int | None = None,
    fields: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    content: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        content["fields"] = [f.model_dump() for f in fields]
    return JSONResponse(
        {"error": content}, status_code=status or STATUS_OF[code], headers=dict(headers or {})
    )


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        head, rest = parts[0], parts[1:]
        return ".".join([head, *rest]) if rest else head
    return ".".join(["body", *parts])


# Messages in the client's terms: Pydantic names a nested object's expected type by its class.
_MESSAGE_OF_TYPE = {
    "model_type": "Input should be an object",
    "dict_type": "Input should be an object",
}


def _validation_message(err: Mapping[str, Any]) -> str:
    msg = _MESSAGE_OF_TYPE.get(str(err.get("type")), str(err.get("msg", "Invalid value.")))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg if msg.endswith(".") else msg + "."


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.code, exc.message, fields=exc.fields, headers=exc.headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    unreadable = _unreadable_body(request, errors)
    if unreadable is not None:
        return unreadable
    fields = [
        FieldError(field=_field_name(e.get("loc", ())), message=_validation_message(e))
        for e in errors
    ]
    return error_response("validation_error", "The request failed validation.", fields=fields)


def _unreadable_body(request: Request, errors: Sequence[Any]) -> JSONResponse | None:
    """A body that is not JSON at all: malformed (400), or sent as another type (415) — said
    so, rather than as a field error."""
    for e in errors:
        if e.get("type") == "json_invalid":
            where = e.get("loc", ())[-1]
            why = str((e.get("ctx") or {}).get("error", "it cannot be parsed"))
            return error_response(
                "bad_request",
                f"The request body is not valid JSON: {why} (at character {where}).",
            )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        return None
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    if has_body and any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors):
        sent = f"as '{content_type}'" if content_type else "without a Content-Type"
        return error_response(
            "unsupported_media_type",
            f"The request body was sent {sent}; send it as JSON, with "
            "'Content-Type: application/json'.",
        )
    return None


_FRAMEWORK_MESSAGES = {
    404: "No such route.",
    405: "This method is not allowed on this route.",
}


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = CODE_OF_STATUS.get(
        exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error"
    )
    message = _FRAMEWORK_MESSAGES.get(exc.status_code) or str(exc.detail)
    if not message.endswith("."):
        message += "."
    return error_response(code, message, status=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)


def error_responses(*codes: str, auth: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error codes a route can answer.

    A route that validates its input can also meet input too malformed to validate (a body that
    is not JSON): ``validation_error`` brings ``bad_request`` along.
    """
    if "validation_error" in codes:
        codes = (*codes, "bad_request")
    by_status: dict[int, list[str]] = {}
    for code in (*(("unauthenticated",) if auth else ()), "internal_error", *codes):
        by_status.setdefault(STATUS_OF[code], []).append(code)
    return {
        status: {
            "model": ErrorEnvelope,
            "description": "Error: " + ", ".join(f"`{c}`" for c in sorted(set(cs))),
        }
        for status, cs in sorted(by_status.items())
    }
