from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from roughy.auth import CurrentAccount
from roughy.credits import ledger
from roughy.credits.schemas import Balance, LedgerEntryOut
from roughy.errors import error_responses
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import Page, PageParams, page_params

router = APIRouter(prefix="/credits", tags=["credits"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@router.get("/balance", response_model=Balance, responses=error_responses())
def get_balance(account: CurrentAccount, rt: RuntimeDep) -> Balance:
    """The sum of the account's ledger."""
    with rt.db.session() as session:
        return Balance(balance=ledger.balance(session, account.id))


@router.get(
    "/history", response_model=Page[LedgerEntryOut], responses=error_responses("validation_error")
)
def get_history(
    account: CurrentAccount, rt: RuntimeDep, page: Annotated[PageParams, Depends(page_params)]
) -> Page[LedgerEntryOut]:
    """Every change of the balance, newest first."""
    with rt.db.session() as session:
        rows, total = ledger.history(session, account, page.limit, page.offset)
        items = [LedgerEntryOut.model_validate(r) for r in rows]
    return Page.of(items, total, page)
