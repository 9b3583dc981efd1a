"""The blocking client: ``Client(...)``, or ``Client()`` for the environment's server."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from roughy.client import config, flows
from roughy.client import operations as ops
from roughy.client.errors import RoughyError, TransportFailed, from_response
from roughy.client.models import (
    Asset,
    AssetSummary,
    Balance,
    Cut,
    CutOptionsIn,
    Decisions,
    ExportFormat,
    Override,
    Page,
    Project,
    Render,
    RenderOutputIn,
    SubtitleFormat,
    User,
)
from roughy.client.steps import (
    Call,
    FileSlice,
    Flow,
    Pause,
    Progress,
    Save,
    block_sizes,
    request,
)
from roughy.client.surface import Surface
from roughy.client.uploads import DEFAULT_CHUNK, UploadStore

T = TypeVar("T")


class Client(Surface):
    """Roughy's API over one connection pool. Every method raises the API's errors as
    ``roughy.client.errors`` exceptions, and ``TransportFailed`` when the server is out of
    reach."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        store: UploadStore | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config.api_url(base_url), store)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=self._headers(config.api_key(api_key)),
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- running flows ---------------------------------------------------------------------

    def run(self, flow: Flow[T]) -> T:
        reply: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            reply, error = None, None
            try:
                reply = self._do(step)
            except TransportFailed as exc:
                error = exc

    def _do(self, step: Call | Pause | Save) -> Any:
        if isinstance(step, Pause):
            time.sleep(step.seconds)
            return None
        try:
            if isinstance(step, Save):
                return self._save(step)
            content = None if step.body is None else self._read(step.body)
            return self._http.send(request(self._http, step, content))
        except httpx.TransportError as exc:
            raise TransportFailed(f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _read(part: FileSlice) -> Iterator[bytes]:
        with part.path.open("rb") as f:
            f.seek(part.offset)
            sent = 0
            for n in block_sizes(part):
                chunk = f.read(n)
                if len(chunk) != n:
                    raise RoughyError(f"{part.path} changed while it was being uploaded.")
                yield chunk
                sent += n
                if part.progress is not None:
                    part.progress(part.offset + sent, part.total)

    def _save(self, step: Save) -> Path:
        req = request(self._http, Call(step.op, url=step.url, signed=True), None)
        partial = step.dest.with_name(step.dest.name + ".part")
        response = self._http.send(req, stream=True)
        try:
            if not response.is_success:
                response.read()
                raise from_response(response)
            total = int(response.headers.get("content-length") or 0)
            done = 0
            with partial.open("wb") as f:
                for chunk in response.iter_bytes(1024 * 1024):
                    f.write(chunk)
                    done += len(chunk)
                    if step.progress is not None:
                        step.progress(done, total or done)
        finally:
            response.close()
        os.replace(partial, step.dest)
        return step.dest

    # --- the API ---------------------------------------------------------------------------

    def me(self) -> User:
        return self.run(flows.fetch(ops.ME, User))

    def balance(self) -> int:
        balance: Balance = self.run(flows.fetch(ops.BALANCE, Balance))
        return balance.balance

    def create_project(self, name: str) -> Project:
        return self.run(flows.create_project(name))

    def get_project(self, project_id: str) -> Project:
        return self.run(self._get_project(project_id))

    def list_projects(
        self, *, state: str | None = None, limit: int = 20, offset: int = 0
    ) -> Page[Project]:
        return self.run(self._list_projects(state, limit, offset))

    def find_project(self, name: str) -> Project | None:
        return self.run(flows.find_project(name))

    def project_named(self, name: str) -> Project:
        """The active project of this name, made if there is none."""
        return self.run(self._project_named(name))

    def list_assets(
        self,
        *,
        project_id: str | None = None,
        state: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Page[AssetSummary]:
        return self.run(self._list_assets(project_id, state, limit, offset))

    def get_asset(self, asset_id: str) -> Asset:
        return self.run(flows.get_asset(asset_id))

    def delete_asset(self, asset_id: str) -> None:
        self.run(self._delete_asset(asset_id))

    def upload(
        self,
        path: str | os.PathLike[str],
        project_id: str,
        *,
        language: str | None = None,
        progress: Progress | None = None,
        chunk_size: int = DEFAULT_CHUNK,
        resume: bool = True,
    ) -> Asset:
        """Uploads a file (resuming an earlier upload of it) and returns its asset."""
        return self.run(
            self._upload(Path(path), project_id, language, progress, chunk_size, resume)
        )

    def wait_for_asset(
        self, asset_id: str, *, max_wait: float | None = None, on_update: Any = None
    ) -> Asset:
        """The asset once ``ready``, ``pending_payment`` or ``failed``."""
        return self.run(flows.wait_asset(asset_id, max_wait, on_update))

    def download_asset(
        self, asset_id: str, dest: str | os.PathLike[str], *, progress: Progress | None = None
    ) -> Path:
        return self.run(self._download_asset(asset_id, Path(dest), progress))

    def create_cut(
        self,
        asset_id: str,
        script: str | None = None,
        *,
        options: CutOptionsIn | None = None,
        overrides: Sequence[Override] | None = None,
        wait_for_asset: float | None = None,
    ) -> Cut:
        """A cut of a ready asset (the same cut for the same script and options). With
        ``wait_for_asset`` seconds, an asset still being prepared is waited for. ``overrides``
        (``TakeOverride``, ``SpanOverride``): a reviewer's choices, making another cut."""
        return self.run(
            flows.create_cut(asset_id, script, options, self._until(wait_for_asset), overrides)
        )

    def get_cut(self, cut_id: str) -> Cut:
        return self.run(flows.get_cut(cut_id))

    def list_cuts(
        self,
        *,
        asset_id: str | None = None,
        project_id: str | None = None,
        state: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Page[Cut]:
        return self.run(self._list_cuts(asset_id, project_id, state, limit, offset))

    def wait_for_cut(
        self, cut_id: str, *, max_wait: float | None = None, on_update: Any = None
    ) -> Cut:
        """The cut once ``completed`` or ``failed``."""
        return self.run(flows.wait_cut(cut_id, max_wait, on_update))

    def decisions(self, cut_id: str) -> Decisions:
        return self.run(self._decisions(cut_id))

    def export_cut(self, cut_id: str, format: ExportFormat = "otio") -> str:
        return self.run(self._export(cut_id, format))

    def subtitles(self, cut_id: str, format: SubtitleFormat = "srt") -> str:
        return self.run(self._subtitles(cut_id, format))

    def create_render(
        self,
        asset_id: str,
        output: RenderOutputIn,
        *,
        cut_id: str | None = None,
        wait_for_asset: float | None = None,
    ) -> Render:
        return self.run(flows.create_render(asset_id, cut_id, output, self._until(wait_for_asset)))

    def get_render(self, render_id: str) -> Render:
        return self.run(flows.get_render(render_id))

    def list_renders(
        self,
        *,
        asset_id: str | None = None,
        cut_id: str | None = None,
        state: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Page[Render]:
        return self.run(self._list_renders(asset_id, cut_id, state, limit, offset))

    def cancel_render(self, render_id: str) -> Render:
        return self.run(self._cancel_render(render_id))

    def wait_for_render(
        self, render_id: str, *, max_wait: float | None = None, on_update: Any = None
    ) -> Render:
        """The render once ``completed``, ``failed`` or ``cancelled``; ``on_update`` sees
        each poll (its ``progress``)."""
        return self.run(flows.wait_render(render_id, max_wait, on_update))

    def download_render(
        self, render_id: str, dest: str | os.PathLike[str], *, progress: Progress | None = None
    ) -> Path:
        return self.run(self._download_render(render_id, Path(dest), progress))
