"""Credits: the ledger, charging an asset once, and activating waiting assets on a top-up.

Every change that reads the balance first takes the account's write lock (a no-op UPDATE of the
account row: a row lock on PostgreSQL, the database write lock on SQLite), so two assets that
finish at the same moment can never both spend the same credits.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.assets import service as assets
from roughy.assets.models import Asset
from roughy.credits.ledger import balance
from roughy.credits.models import ENTRY_TYPES, LedgerEntry
from roughy.errors import ApiError

MS_PER_MINUTE = 60_000


def price(duration_ms: int) -> int:
    """1 credit per started minute: 90 s cost 2, 60 s cost 1."""
    return max(1, -(-duration_ms // MS_PER_MINUTE))


def _lock_account(session: Session, account_id: str) -> None:
    session.execute(update(Account).where(Account.id == account_id).values(email=Account.email))


def settle(session: Session, asset: Asset, *, enforced: bool) -> None:
    """A measured asset leaves ``processing``: charged and ready, or waiting for payment."""
    assert asset.duration_ms is not None
    if not enforced:
        assets.mark_ready(session, asset)
        return
    _lock_account(session, asset.account_id)
    if _charge(session, asset):
        assets.mark_ready(session, asset)
    else:
        assets.mark_pending_payment(session, asset)


def _charge(session: Session, asset: Asset) -> bool:
    """Charge the asset if the balance covers it; False when it does not."""
    assert asset.duration_ms is not None
    cost = price(asset.duration_ms)
    if balance(session, asset.account_id) < cost:
        return False
    session.add(
        LedgerEntry(
            account_id=asset.account_id, type="consume_asset", delta=-cost, asset_id=asset.id
        )
    )
    session.flush()
    return True


def grant(session: Session, account: Account, amount: int, type_: str = "topup") -> list[Asset]:
    """Add credits (or take them, for an adjustment) and activate waiting assets, oldest first.

    Returns the assets that became ready.
    """
    if type_ not in ENTRY_TYPES or type_ == "consume_asset":
        raise ApiError("validation_error", f"'{type_}' is not a kind of grant.")
    if amount == 0 or (amount < 0 and type_ != "adjustment"):
        raise ApiError("validation_error", "Only an adjustment may take credits away.")
    _lock_account(session, account.id)
    session.add(LedgerEntry(account_id=account.id, type=type_, delta=amount))
    session.flush()
    waiting = session.scalars(
        select(Asset)
        .where(Asset.account_id == account.id, Asset.state == "pending_payment")
        .order_by(Asset.created_at, Asset.id)
    ).all()
    activated = []
    for asset in waiting:
        if not _charge(session, asset):
            break  # oldest first: a younger asset never jumps the queue
        assets.mark_ready(session, asset)
        activated.append(asset)
    return activated
