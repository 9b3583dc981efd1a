"""The dashboard's routes: its page at ``/``, its files, and signing in and out.

Everything else the pages do, they do through the public API (``/v1``) with the session
cookie these routes set; none of them is in the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from roughy.accounts.models import Account, ApiKey
from roughy.accounts.service import key_lookup
from roughy.auth import session_account
from roughy.errors import ApiError
from roughy.runtime import Runtime, get_runtime
from roughy.web import sessions

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(include_in_schema=False)
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class SignIn(BaseModel):
    api_key: str = Field(max_length=256)


def install_dashboard(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


def _live_key(rt: Runtime, plaintext: str) -> tuple[ApiKey, Account] | None:
    lookup = key_lookup(plaintext.strip())
    if lookup is None:
        return None
    with rt.db.session() as session:
        for key in session.scalars(select(ApiKey).where(ApiKey.prefix == lookup.prefix)):
            if lookup.matches(key.key_hash) and key.revoked_at is None:
                account = session.get(Account, key.account_id)
                return (key, account) if account is not None else None
    return None


def _session_body(rt: Runtime, account: Account, cookie: str) -> dict[str, str]:
    return {
        "email": account.email,
        "csrf_token": sessions.csrf_token(rt.settings.signing_key, cookie),
    }


@router.post("/dashboard/session")
async def sign_in(body: SignIn, request: Request, rt: RuntimeDep) -> JSONResponse:
    """An API key for a session cookie (HttpOnly, SameSite=Strict) and its CSRF token. The
    body is JSON, which no other site's form can send."""
    found = await run_in_threadpool(_live_key, rt, body.api_key)
    if found is None:
        raise ApiError("unauthenticated", "The API key is unknown or revoked.")
    key, account = found
    cookie = sessions.mint(rt.settings.signing_key, key.id)
    response = JSONResponse(_session_body(rt, account, cookie))
    response.set_cookie(
        sessions.COOKIE,
        cookie,
        max_age=sessions.TTL_SECONDS,
        httponly=True,
        samesite="strict",
        # Behind a proxy that ends TLS, the public URL says the page is served over https.
        secure=request.url.scheme == "https"
        or (rt.settings.public_url or "").startswith("https://"),
        path="/",
    )
    return response


@router.get("/dashboard/session")
async def current_session(request: Request, rt: RuntimeDep) -> JSONResponse:
    """Who is signed in, and the CSRF token the pages send on every change."""
    cookie = request.cookies.get(sessions.COOKIE)
    if cookie is None:
        raise ApiError("unauthenticated", "Sign in with an API key.")
    account = await run_in_threadpool(session_account, rt, request, cookie)
    return JSONResponse(_session_body(rt, account, cookie), headers={"Cache-Control": "no-store"})


@router.delete("/dashboard/session", status_code=204)
async def sign_out(request: Request, rt: RuntimeDep) -> Response:
    cookie = request.cookies.get(sessions.COOKIE)
    if cookie is not None and not sessions.csrf_ok(
        rt.settings.signing_key, cookie, request.headers.get(sessions.CSRF_HEADER)
    ):
        raise ApiError("forbidden", "The request lacks the session's CSRF token; reload the page.")
    response = Response(status_code=204)
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="strict")
    return response
