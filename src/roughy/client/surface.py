"""What the sync and async clients share: their settings and the flows behind each method
(the clients only run them, each its own way)."""

from __future__ import annotations

import time
from pathlib import Path

import roughy
from roughy.client import flows
from roughy.client import operations as ops
from roughy.client.models import (
    Asset,
    AssetSummary,
    Cut,
    Decisions,
    Page,
    Project,
    Render,
)
from roughy.client.steps import Flow, Progress
from roughy.client.uploads import UploadStore, upload


class Surface:
    def __init__(self, base_url: str, store: UploadStore | None) -> None:
        self.base_url = base_url
        self.store = store if store is not None else UploadStore()

    @staticmethod
    def _headers(key: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {key}",
            "User-Agent": f"roughy-client/{roughy.__version__}",
        }

    @staticmethod
    def _until(seconds: float | None) -> float | None:
        return None if seconds is None else time.monotonic() + seconds

    def _get_project(self, project_id: str) -> Flow[Project]:
        return flows.fetch(ops.GET_PROJECT, Project, params={"project_id": project_id})

    def _list_projects(self, state: str | None, limit: int, offset: int) -> Flow[Page[Project]]:
        query = {"state": state, "limit": limit, "offset": offset}
        return flows.list_page(ops.LIST_PROJECTS, Project, query)

    def _project_named(self, name: str) -> Flow[Project]:
        found = yield from flows.find_project(name)
        if found is not None:
            return found
        return (yield from flows.create_project(name))

    def _list_assets(
        self, project_id: str | None, state: str | None, limit: int, offset: int
    ) -> Flow[Page[AssetSummary]]:
        query = {"project_id": project_id, "state": state, "limit": limit, "offset": offset}
        return flows.list_page(ops.LIST_ASSETS, AssetSummary, query)

    def _delete_asset(self, asset_id: str) -> Flow[None]:
        yield from flows.call(ops.DELETE_ASSET, params={"asset_id": asset_id})

    def _upload(
        self,
        path: Path,
        project_id: str,
        language: str | None,
        progress: Progress | None,
        chunk_size: int,
        resume: bool,
    ) -> Flow[Asset]:
        return upload(
            path,
            project_id,
            base_url=self.base_url,
            store=self.store if resume else None,
            language=language,
            chunk_size=chunk_size,
            progress=progress,
        )

    def _download_asset(self, asset_id: str, dest: Path, progress: Progress | None) -> Flow[Path]:
        asset = yield from flows.get_asset(asset_id)
        return (yield from flows.download(ops.DOWNLOAD_ASSET, asset.download_url, dest, progress))

    def _list_cuts(
        self,
        asset_id: str | None,
        project_id: str | None,
        state: str | None,
        limit: int,
        offset: int,
    ) -> Flow[Page[Cut]]:
        query = {"asset_id": asset_id, "project_id": project_id, "state": state}
        return flows.list_page(ops.LIST_CUTS, Cut, {**query, "limit": limit, "offset": offset})

    def _decisions(self, cut_id: str) -> Flow[Decisions]:
        return flows.fetch(ops.CUT_DECISIONS, Decisions, params={"cut_id": cut_id})

    def _export(self, cut_id: str, format: str) -> Flow[str]:
        return flows.text(ops.CUT_EXPORT, {"cut_id": cut_id}, {"format": format})

    def _subtitles(self, cut_id: str, format: str) -> Flow[str]:
        return flows.text(ops.CUT_SUBTITLES, {"cut_id": cut_id}, {"format": format})

    def _list_renders(
        self, asset_id: str | None, cut_id: str | None, state: str | None, limit: int, offset: int
    ) -> Flow[Page[Render]]:
        query = {"asset_id": asset_id, "cut_id": cut_id, "state": state}
        return flows.list_page(
            ops.LIST_RENDERS, Render, {**query, "limit": limit, "offset": offset}
        )

    def _cancel_render(self, render_id: str) -> Flow[Render]:
        return flows.fetch(ops.CANCEL_RENDER, Render, params={"render_id": render_id})

    def _download_render(self, render_id: str, dest: Path, progress: Progress | None) -> Flow[Path]:
        render = yield from flows.get_render(render_id)
        return (yield from flows.download(ops.DOWNLOAD_RENDER, render.download_url, dest, progress))
