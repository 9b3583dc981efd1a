from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from roughy.schemas import Name, Timestamp

ProjectState = Literal["active", "archived"]


class ProjectCreate(BaseModel):
    name: Name


class ProjectUpdate(BaseModel):
    name: Name | None = None
    state: ProjectState | None = None


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    state: ProjectState
    archived_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
