"""Reading the ledger: an account's balance and its history."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.credits.models import LedgerEntry


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
    where = LedgerEntry.account_id == account.id
    total = session.scalar(select(func.count()).select_from(LedgerEntry).where(where)) or 0
    rows = session.scalars(
        select(LedgerEntry)
        .where(where)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total
