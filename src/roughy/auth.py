"""Authentication as a FastAPI dependency: a bearer key, or the dashboard's session cookie.

A request with an ``Authorization`` header is judged by it alone. One without is judged by its
session cookie (``roughy.web.sessions``), if it has one: a session is its API key, looked
up again on every request, and it changes nothing without the CSRF header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from roughy.accounts.models import Account, ApiKey
from roughy.accounts.service import authenticate
from roughy.errors import ApiError
from roughy.runtime import Runtime, get_runtime
from roughy.web import sessions

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
    cookie = request.cookies.get(sessions.COOKIE)
    if cookie is not None and "authorization" not in request.headers:
        return session_account(runtime, request, cookie)
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


def session_account(runtime: Runtime, request: Request, cookie: str) -> Account:
    """The account of a dashboard session: its key must still be live, and a request that
    changes something must carry the session's CSRF token."""
    secret = runtime.settings.signing_key
    key_id = sessions.key_of(secret, cookie)
    if key_id is None:
        raise ApiError("unauthenticated", "The session has expired; sign in again.")
    if request.method not in sessions.SAFE_METHODS and not sessions.csrf_ok(
        secret, cookie, request.headers.get(sessions.CSRF_HEADER)
    ):
        raise ApiError("forbidden", "The request lacks the session's CSRF token; reload the page.")
    with runtime.db.session() as session:
        key = session.get(ApiKey, key_id)
        account = session.get(Account, key.account_id) if key and key.revoked_at is None else None
    if account is None:
        raise ApiError("unauthenticated", "The session's API key was revoked; sign in again.")
    return account


async def current_account(
    request: Request, runtime: Annotated[Runtime, Depends(get_runtime)], _: BearerScheme
) -> Account:
    return await run_in_threadpool(authenticate_request, runtime, request)


CurrentAccount = Annotated[Account, Depends(current_account)]
