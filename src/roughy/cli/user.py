"""The user's commands: upload, cut, render, download and list, through ``roughy.client``
against ``ROUGHY_API_URL`` with ``ROUGHY_API_KEY`` (else the local server and its key).

Exit codes (``ExitCode``) are part of the interface: scripts may rely on them.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from roughy.cli.base import app, console
from roughy.client import Client, RenderOutputIn
from roughy.client.config import NoApiKey
from roughy.client.errors import (
    JobFailed,
    NotFound,
    RoughyError,
    TransportFailed,
    Unauthenticated,
    WaitTimedOut,
)
from roughy.client.models import Asset, AssetSummary, Cut, Render


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # the API refused (bad input, a conflict, a file that is not media, ...)
    USAGE = 2  # the command line itself is wrong (Typer's own code)
    NOT_FOUND = 3  # no such project, asset, cut or render (or not this key's)
    AUTH = 4  # no API key, or the server does not know it
    FAILED = 5  # what was waited for ended failed, cancelled or waiting for payment
    UNREACHABLE = 6  # the server could not be reached, or kept dropping the connection
    TIMED_OUT = 7  # --timeout passed before it settled
    INTERRUPTED = 130  # Ctrl-C; an upload resumes on the next run


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="Wait until it settles (exit 5 if it fails).")
]
TimeoutOption = Annotated[
    float | None, typer.Option(help="With --wait: give up after this many seconds (exit 7).")
]


@contextlib.contextmanager
def _client() -> Iterator[Client]:
    """The client, and every failure turned into its message on stderr and its exit code."""
    code = ExitCode.OK
    try:
        with Client() as client:
            yield client
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted.[/] Run the same command again to resume.")
        code = ExitCode.INTERRUPTED
    except RoughyError as exc:
        console.print(f"[red]{exc}[/]")
        code = _code_of(exc)
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


def _code_of(exc: RoughyError) -> ExitCode:
    table: list[tuple[type[RoughyError], ExitCode]] = [
        (NotFound, ExitCode.NOT_FOUND),
        (Unauthenticated, ExitCode.AUTH),
        (NoApiKey, ExitCode.AUTH),
        (JobFailed, ExitCode.FAILED),
        (TransportFailed, ExitCode.UNREACHABLE),
        (WaitTimedOut, ExitCode.TIMED_OUT),
    ]
    return next((code for kind, code in table if isinstance(exc, kind)), ExitCode.ERROR)


def _print_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any]) -> None:
    def plain(v: Any) -> Any:
        return v.model_dump(mode="json") if isinstance(v, BaseModel) else v

    data = [plain(v) for v in value] if isinstance(value, list | tuple) else plain(value)
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _transfer_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _tracker(bar: Progress, description: str) -> Callable[[int, int], None]:
    task = bar.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update


def _settled(value: Asset | Cut | Render, good: str) -> None:
    """Raises ``JobFailed`` unless the waited-for object ended ``good``."""
    if value.state == good:
        return
    kind = type(value).__name__.lower()
    why = value.error_message or value.state.replace("_", " ")
    raise JobFailed(f"{kind} {value.id} is {value.state}: {why}", value)


@app.command("upload")
def upload(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    project: Annotated[
        str, typer.Option("--project", "-p", help="Project name (made if new) or id.")
    ],
    language: Annotated[
        str | None, typer.Option(help="ISO 639-1 hint (2 letters); default: detected.")
    ] = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    chunk_mib: Annotated[int, typer.Option(help="MiB per PATCH request.", min=1)] = 64,
    as_json: JsonOption = False,
) -> None:
    """Upload files to a project, with a progress bar; an interrupted upload resumes on the
    next run from where the server got to."""
    assets: list[Asset] = []
    with _client() as client:
        target = _project(client, project)
        with _transfer_bar() as bar:
            for path in files:
                progress = _tracker(bar, path.name)
                asset = client.upload(
                    path,
                    target,
                    language=language,
                    progress=progress,
                    chunk_size=chunk_mib * 1024 * 1024,
                )
                assets.append(asset)
        if wait:
            assets = [_wait_asset(client, a, timeout) for a in assets]
        _show_assets(assets, as_json)
        for asset in assets if wait else []:
            _settled(asset, "ready")


def _project(client: Client, name_or_id: str) -> str:
    with contextlib.suppress(NotFound):
        return client.get_project(name_or_id).id
    return client.project_named(name_or_id).id


def _wait_asset(client: Client, asset: Asset, timeout: float | None) -> Asset:
    with console.status(f"Preparing {asset.filename or asset.id}…"):
        return client.wait_for_asset(asset.id, max_wait=timeout)


def _show_assets(assets: Sequence[AssetSummary], as_json: bool) -> None:
    if as_json:
        _print_json(list(assets))
        return
    table = Table("asset", "file", "state", "duration", "type", box=None)
    for a in assets:
        table.add_row(a.id, a.filename or "", a.state, a.duration_seconds or "", a.type or "")
    _print_table(table)


def _print_table(table: Table) -> None:
    """A table on stdout, plain (no colours, no wrapping), for people and for grep."""
    Console(width=240, color_system=None, soft_wrap=True).print(table)


@app.command("cut")
def cut(
    asset: Annotated[str, typer.Argument(help="The asset's id.")],
    script: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="The script, one line per line said."),
    ] = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cut an asset to what was meant to be said (a script's lines, or the speech alone)."""
    text = script.read_text(encoding="utf-8") if script is not None else None
    with _client() as client:
        made = client.create_cut(asset, text, wait_for_asset=timeout or 600)
        if wait:
            with console.status(f"Cutting {asset}…"):
                made = client.wait_for_cut(made.id, max_wait=timeout)
        _show_cut(made, as_json)
        if wait:
            _settled(made, "completed")


def _show_cut(value: Cut, as_json: bool) -> None:
    if as_json:
        _print_json(value)
        return
    typer.echo(f"cut {value.id}  {value.state}")
    if value.state == "completed":
        typer.echo(f"kept {value.kept_duration_seconds} s in {len(value.segments or [])} spans")
        if value.missing_lines:
            typer.echo("lines never said: " + ", ".join(map(str, value.missing_lines)))


class Format(StrEnum):
    mp4 = "mp4"
    mov = "mov"
    m4a = "m4a"
    mp3 = "mp3"


class Resolution(StrEnum):
    p720 = "720p"
    p1080 = "1080p"
    k4 = "4k"


@app.command("render")
def render(
    cut_id: Annotated[str, typer.Argument(metavar="CUT", help="The cut's id.")],
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.mp4,
    resolution: Annotated[
        str | None,
        typer.Option(help="720p, 1080p or 4k (the shorter edge); default: the source's."),
    ] = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="With --wait: save the file here."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Render a cut (with --wait, a progress bar; with --output, the file downloaded)."""
    with _client() as client:
        cut = client.get_cut(cut_id)
        order = RenderOutputIn.model_validate(
            {"format": str(format), "resolution": None if resolution is None else str(resolution)}
        )
        made = client.create_render(cut.asset_id, order, cut_id=cut.id, wait_for_asset=timeout)
        if wait or output is not None:
            made = _wait_render(client, made, timeout)
            _settled(made, "completed")
            if output is not None:
                _download(client.download_render, made.id, output)
        _show_render(made, output, as_json)


def _wait_render(client: Client, made: Render, timeout: float | None) -> Render:
    columns = (
        TextColumn("[bold]rendering"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("render", total=1.0)

        def update(value: Render) -> None:
            bar.update(task, completed=value.progress, description=value.state)

        return client.wait_for_render(made.id, max_wait=timeout, on_update=update)


def _download(get: Callable[..., Path], object_id: str, dest: Path) -> Path:
    with _transfer_bar() as bar:
        return get(object_id, dest, progress=_tracker(bar, dest.name))


def _show_render(value: Render, saved: Path | None, as_json: bool) -> None:
    if as_json:
        data = value.model_dump(mode="json")
        _print_json({**data, "saved_to": str(saved)} if saved is not None else data)
        return
    typer.echo(f"render {value.id}  {value.state}  {value.output.format}")
    if saved is not None:
        typer.echo(f"saved {saved} ({value.size_bytes} bytes, {value.duration_seconds} s)")


@app.command("download")
def download(
    object_id: Annotated[str, typer.Argument(metavar="ID", help="A render's or an asset's id.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Default: the server's file name."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Download a completed render, or an asset's source file, with a progress bar."""
    with _client() as client:
        try:
            made: Render | Asset = client.get_render(object_id)
            get: Callable[..., Path] = client.download_render
        except NotFound:
            made = client.get_asset(object_id)
            get = client.download_asset
        good = "completed" if isinstance(made, Render) else "ready"
        _settled(made, good)
        dest = output or Path(_default_name(made))
        saved = _download(get, object_id, dest)
        if as_json:
            _print_json(
                {"id": object_id, "saved_to": str(saved), "size_bytes": saved.stat().st_size}
            )
        else:
            typer.echo(f"saved {saved}")


def _default_name(value: Render | Asset) -> str:
    if isinstance(value, Asset):
        return value.filename or f"{value.id}.{value.extension or 'bin'}"
    return f"render-{value.id[:8]}.{value.output.format}"


@app.command("projects")
def projects(
    archived: Annotated[bool, typer.Option(help="List the archived ones instead.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List projects, newest first."""
    with _client() as client:
        page = client.list_projects(state="archived" if archived else "active", limit=100)
    if as_json:
        _print_json(page.items)
        return
    table = Table("project", "name", "created", box=None)
    for p in page.items:
        table.add_row(p.id, p.name, p.created_at.strftime("%Y-%m-%d %H:%M"))
    _print_table(table)


@app.command("assets")
def assets(
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Only this project's (name or id).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List assets, newest first, with their state."""
    with _client() as client:
        project_id = None
        if project is not None:
            found = _existing_project(client, project)
            project_id = found
        page = client.list_assets(project_id=project_id, limit=100)
    _show_assets(page.items, as_json)


def _existing_project(client: Client, name_or_id: str) -> str:
    with contextlib.suppress(NotFound):
        return client.get_project(name_or_id).id
    found = client.find_project(name_or_id)
    if found is None:
        raise NotFound(404, "not_found", f"No project named {name_or_id!r}.")
    return found.id
