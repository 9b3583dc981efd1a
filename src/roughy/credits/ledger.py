"""Reading the ledger: an account's balance and its history."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.credits.models import LedgerEntry
from roughy.db import paginate


def balance(session: Session, account_id: str) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(total or 0)


def history(
    session: Session, account: Account, limit: int, offset: int
) -> tuple[list[LedgerEntry], int]:
    return paginate(session, LedgerEntry, [LedgerEntry.account_id == account.id], limit, offset)
