from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from roughy.schemas import Name, Timestamp


class User(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str | None
    created_at: Timestamp


class ApiKeyCreate(BaseModel):
    name: Name


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None


class ApiKeyCreated(ApiKeyOut):
    plaintext: str = Field(description="The key itself, `sk_…`; shown only in this response.")
