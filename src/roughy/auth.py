"""Bearer-key authentication as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from roughy.accounts.models import Account
from roughy.accounts.service import authenticate
from roughy.errors import ApiError
from roughy.runtime import Runtime, get_runtime

CHALLENGE = {"WWW-Authenticate": "Bearer"}
# Declares the scheme in the OpenAPI document (the docs page's "Authorize"); the header is read
# and judged below, so that every failure answers in the envelope.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key, `sk_…`. The upload routes also take an upload token, `ut_…`.",
)
BearerScheme = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def bearer_token(header: str) -> str | None:
    """The key of an ``Authorization: Bearer …`` header value; None for anything else."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate_request(runtime: Runtime, request: Request) -> Account:
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise ApiError(
            "unauthenticated",
            "Send your API key as 'Authorization: Bearer sk_…'.",
            headers=CHALLENGE,
        )
    with runtime.db.session() as session:
        account = authenticate(session, token)
    if account is None:
        raise ApiError("unauthenticated", "The API key is unknown or revoked.", headers=CHALLENGE)
    return account


async def current_account(
    request: Request, runtime: Annotated[Runtime, Depends(get_runtime)], _: BearerScheme
) -> Account:
    return await run_in_threadpool(authenticate_request, runtime, request)


CurrentAccount = Annotated[Account, Depends(current_account)]
