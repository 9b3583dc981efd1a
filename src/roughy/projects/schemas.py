from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from roughy.schemas import Timestamp

ProjectState = Literal["active", "archived"]
Name = Field(min_length=1, max_length=256)


class ProjectCreate(BaseModel):
    name: str = Name


class ProjectUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    state: ProjectState | None = None


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    state: ProjectState
    archived_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
