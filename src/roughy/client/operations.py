"""Every API operation the client uses, as ``openapi.json`` names it."""

from __future__ import annotations

from roughy.client.models import (
    Asset,
    AssetSummary,
    Balance,
    Cut,
    CutCreate,
    Decisions,
    Page,
    Project,
    ProjectCreate,
    Render,
    RenderCreate,
    User,
)
from roughy.client.steps import Operation

_LIST = ("limit", "offset")

ME = Operation("GET", "/v1/users/me", response=User)
BALANCE = Operation("GET", "/v1/credits/balance", response=Balance)

CREATE_PROJECT = Operation("POST", "/v1/projects", body=ProjectCreate, response=Project)
LIST_PROJECTS = Operation("GET", "/v1/projects", ("state", *_LIST), response=Page[Project])
GET_PROJECT = Operation("GET", "/v1/projects/{project_id}", response=Project)

LIST_ASSETS = Operation(
    "GET", "/v1/assets", ("project_id", "state", *_LIST), response=Page[AssetSummary]
)
GET_ASSET = Operation("GET", "/v1/assets/{asset_id}", response=Asset)
DELETE_ASSET = Operation("DELETE", "/v1/assets/{asset_id}")
DOWNLOAD_ASSET = Operation("GET", "/v1/assets/{asset_id}/download")

CREATE_UPLOAD = Operation(
    "POST", "/v1/uploads", headers=("Tus-Resumable", "Upload-Length", "Upload-Metadata")
)
# HEAD and DELETE take Tus-Resumable too, though the served document does not list it there.
HEAD_UPLOAD = Operation("HEAD", "/v1/uploads/{upload_id}")
PATCH_UPLOAD = Operation(
    "PATCH", "/v1/uploads/{upload_id}", headers=("Tus-Resumable", "Upload-Offset")
)
DELETE_UPLOAD = Operation("DELETE", "/v1/uploads/{upload_id}")

CREATE_CUT = Operation("POST", "/v1/cuts", body=CutCreate, response=Cut)
LIST_CUTS = Operation(
    "GET", "/v1/cuts", ("asset_id", "project_id", "state", *_LIST), response=Page[Cut]
)
GET_CUT = Operation("GET", "/v1/cuts/{cut_id}", response=Cut)
CUT_DECISIONS = Operation("GET", "/v1/cuts/{cut_id}/decisions", response=Decisions)
CUT_EXPORT = Operation("GET", "/v1/cuts/{cut_id}/export", ("format",))
CUT_SUBTITLES = Operation("GET", "/v1/cuts/{cut_id}/subtitle/export", ("format",))

CREATE_RENDER = Operation("POST", "/v1/renders", body=RenderCreate, response=Render)
LIST_RENDERS = Operation(
    "GET", "/v1/renders", ("asset_id", "cut_id", "state", *_LIST), response=Page[Render]
)
GET_RENDER = Operation("GET", "/v1/renders/{render_id}", response=Render)
CANCEL_RENDER = Operation("POST", "/v1/renders/{render_id}/cancel", response=Render)
DOWNLOAD_RENDER = Operation("GET", "/v1/renders/{render_id}/download")

ALL: tuple[Operation, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Operation))
