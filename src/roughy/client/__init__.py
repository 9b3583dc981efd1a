"""Roughy's Python client: typed objects, sync and async, resumable TUS uploads, waits.

    from roughy.client import Client, RenderOutputIn

    with Client() as roughy:  # ROUGHY_API_URL / ROUGHY_API_KEY, else the local server
        project = roughy.project_named("Demo")
        asset = roughy.upload("talk.mp4", project.id, progress=print)
        asset = roughy.wait_for_asset(asset.id)
        cut = roughy.wait_for_cut(roughy.create_cut(asset.id, script).id)
        render = roughy.create_render(asset.id, RenderOutputIn(format="mp4"), cut_id=cut.id)
        render = roughy.wait_for_render(render.id)
        roughy.download_render(render.id, "talk-cut.mp4")

``AsyncClient`` has the same methods, awaited. Errors are ``roughy.client.errors``'s classes.
"""

from roughy.client.aio import AsyncClient
from roughy.client.config import NoApiKey
from roughy.client.errors import (
    ApiError,
    Conflict,
    JobFailed,
    NotFound,
    NotReady,
    RoughyError,
    TransportFailed,
    Unauthenticated,
    ValidationFailed,
    WaitTimedOut,
)
from roughy.client.models import (
    Asset,
    AssetSummary,
    Cut,
    CutOptionsIn,
    Decision,
    Decisions,
    Page,
    Project,
    Render,
    RenderOutputIn,
    SpanOverride,
    TakeOverride,
    User,
)
from roughy.client.sync import Client
from roughy.client.uploads import UploadStore

__all__ = [
    "ApiError",
    "Asset",
    "AssetSummary",
    "AsyncClient",
    "Client",
    "Conflict",
    "Cut",
    "CutOptionsIn",
    "Decision",
    "Decisions",
    "JobFailed",
    "NoApiKey",
    "NotFound",
    "NotReady",
    "Page",
    "Project",
    "Render",
    "RenderOutputIn",
    "RoughyError",
    "SpanOverride",
    "TakeOverride",
    "TransportFailed",
    "Unauthenticated",
    "UploadStore",
    "User",
    "ValidationFailed",
    "WaitTimedOut",
]
