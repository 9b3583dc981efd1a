"""Who may use an upload route: an API key, or an upload token for that one upload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from roughy.accounts.models import Account
from roughy.auth import CHALLENGE, BearerScheme, authenticate_request, bearer_token
from roughy.db import parse_id
from roughy.errors import ApiError, not_found
from roughy.runtime import Runtime, get_runtime
from roughy.uploads import tokens
from roughy.uploads.models import Upload


@dataclass(frozen=True)
class Caller:
    account: Account
    token_upload: str | None  # the upload of an upload token; None for an API key


def _by_token(rt: Runtime, token: str, path_upload: str | None) -> Caller:
    upload_id = tokens.upload_of(rt.settings.signing_key, token)
    if upload_id is None:
        raise ApiError(
            "unauthenticated",
            "The upload token is not valid or has expired; ask for a new one.",
            headers=CHALLENGE,
        )
    if path_upload is not None and parse_id(path_upload) != upload_id:
        raise not_found("Upload")  # another upload: as missing, whatever it is
    with rt.db.session() as session:
        upload = session.get(Upload, upload_id)
        account = session.get(Account, upload.account_id) if upload is not None else None
    if account is None:
        raise not_found("Upload")
    return Caller(account, upload_id)


async def upload_caller(
    request: Request, rt: Annotated[Runtime, Depends(get_runtime)], _: BearerScheme
) -> Caller:
    token = bearer_token(request.headers.get("authorization", ""))
    if token is not None and tokens.is_token(token):
        path_upload = request.path_params.get("upload_id")
        return await run_in_threadpool(_by_token, rt, token, path_upload)
    return Caller(await run_in_threadpool(authenticate_request, rt, request), None)


UploadCaller = Annotated[Caller, Depends(upload_caller)]
