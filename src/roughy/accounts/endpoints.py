from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from roughy.accounts import service
from roughy.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, User
from roughy.auth import CurrentAccount
from roughy.errors import error_responses
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import Page, PageParams, page_params, path_id

router = APIRouter(tags=["accounts"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@router.get("/users/me", response_model=User, responses=error_responses())
def get_me(account: CurrentAccount) -> User:
    return User.model_validate(account)


@router.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=error_responses("validation_error"),
)
def create_api_key(body: ApiKeyCreate, account: CurrentAccount, rt: RuntimeDep) -> ApiKeyCreated:
    with rt.db.session() as session:
        minted = service.mint_key(session, account, body.name)
        out = ApiKeyOut.model_validate(minted.key)
    return ApiKeyCreated(**out.model_dump(), plaintext=minted.plaintext)


@router.get(
    "/api-keys", response_model=Page[ApiKeyOut], responses=error_responses("validation_error")
)
def list_api_keys(
    account: CurrentAccount, rt: RuntimeDep, page: Annotated[PageParams, Depends(page_params)]
) -> Page[ApiKeyOut]:
    with rt.db.session() as session:
        rows, total = service.list_keys(session, account, page.limit, page.offset)
        items = [ApiKeyOut.model_validate(r) for r in rows]
    return Page.of(items, total, page)


@router.delete(
    "/api-keys/{key_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses("not_found"),
)
def revoke_api_key(key_id: str, account: CurrentAccount, rt: RuntimeDep) -> Response:
    with rt.db.session() as session:
        service.revoke_key(session, account, path_id(key_id, "API key"))
    return Response(status_code=204)
