from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from roughy.schemas import Timestamp

EntryType = Literal["consume_asset", "topup", "refund", "adjustment", "expiry"]


class Balance(BaseModel):
    balance: int


class LedgerEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    type: EntryType
    delta: int
    asset_id: str | None
    created_at: Timestamp
