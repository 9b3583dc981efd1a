from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from roughy.assets.endpoints import base_url
from roughy.auth import CurrentAccount
from roughy.cuts import exports, service, tasks
from roughy.cuts.schemas import CutCreate, CutOut, CutState, DecisionOut, Decisions
from roughy.db import parse_id
from roughy.errors import ApiError, error_responses
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import Page, PageParams, filter_ids, page_params, path_id

router = APIRouter(prefix="/cuts", tags=["cuts"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@router.post(
    "",
    status_code=201,
    response_model=CutOut,
    responses={
        200: {
            "description": "This asset was cut with this script and these options before: "
            "that cut.",
            "model": CutOut,
        },
        201: {
            "description": "A new cut; it is decided in the background.",
            "headers": {
                "Location": {"description": "The cut's URL.", "schema": {"type": "string"}}
            },
        },
        **error_responses(
            "not_found",
            "asset_processing",
            "asset_payment_required",
            "asset_failed",
            "validation_error",
        ),
    },
)
def create_cut(
    body: CutCreate, request: Request, account: CurrentAccount, rt: RuntimeDep
) -> JSONResponse:
    """Cut an asset to what the speaker meant to say, by its script or by its speech alone."""
    asset_id = parse_id(body.asset_id)
    if asset_id is None:
        raise ApiError("not_found", "Asset not found.")
    with rt.db.session() as session:
        asset = service.cuttable(session, account, asset_id)
        given = body.options.given() if body.options is not None else {}
        overrides = [o.model_dump() for o in body.overrides or ()]
        cut, created = service.create(session, rt.settings, asset, body.script, given, overrides)
        if created:
            tasks.order(rt, session, cut, asset)
    out = CutOut.of(cut).model_dump(mode="json")
    if not created:
        return JSONResponse(out, status_code=200)
    location = f"{base_url(rt, request)}/v1/cuts/{cut.id}"
    return JSONResponse(out, status_code=201, headers={"Location": location})


@router.get("", response_model=Page[CutOut], responses=error_responses("validation_error"))
def list_cuts(
    account: CurrentAccount,
    rt: RuntimeDep,
    page: Annotated[PageParams, Depends(page_params)],
    asset_id: Annotated[str | None, Query(description="Only this asset's cuts.")] = None,
    project_id: Annotated[str | None, Query(description="Only this project's cuts.")] = None,
    state: Annotated[CutState | None, Query(description="Only cuts in this state.")] = None,
) -> Page[CutOut]:
    parsed = filter_ids(asset_id=asset_id, project_id=project_id)
    if parsed is None:
        return Page.empty(page)
    with rt.db.session() as session:
        rows, total = service.list_(
            session,
            account,
            asset_id=parsed["asset_id"],
            project_id=parsed["project_id"],
            state=state,
            limit=page.limit,
            offset=page.offset,
        )
        items = [CutOut.of(c) for c in rows]
    return Page.of(items, total, page)


@router.get("/{cut_id}", response_model=CutOut, responses=error_responses("not_found"))
def get_cut(cut_id: str, account: CurrentAccount, rt: RuntimeDep) -> CutOut:
    with rt.db.session() as session:
        return CutOut.of(service.get(session, account, path_id(cut_id, "Cut")))


@router.get(
    "/{cut_id}/decisions",
    response_model=Decisions,
    responses=error_responses("not_found", "conflict"),
)
def get_decisions(cut_id: str, account: CurrentAccount, rt: RuntimeDep) -> Decisions:
    """Every word, filler and pause of the recording: kept or dropped, and why."""
    with rt.db.session() as session:
        cut = service.completed(session, account, path_id(cut_id, "Cut"))
    return Decisions(
        cut_id=cut.id,
        items=[DecisionOut.model_validate(d) for d in service.decision_rows(cut)],
        missing_lines=cut.missing_lines or [],
    )


_FILE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file.", "content": {"application/octet-stream": {}}}
}


@router.get(
    "/{cut_id}/export",
    response_class=Response,
    responses={**_FILE, **error_responses("not_found", "conflict", "validation_error")},
)
def export_cut(
    cut_id: str,
    account: CurrentAccount,
    rt: RuntimeDep,
    fmt: Annotated[
        exports.TimelineFormat,
        Query(
            alias="format",
            description="otio, fcpxml (Final Cut Pro X), xmeml (Final Cut 7, Premiere), "
            "edl (CMX 3600), or json (ours).",
        ),
    ] = "otio",
    media_url: Annotated[
        str | None,
        Query(
            description="Where the editor finds the source media (a file:// URL); default: "
            "file:///<asset id>.<extension>, to relink in the editor.",
            max_length=2048,
        ),
    ] = None,
) -> Response:
    """The cut as an editing timeline: the kept segments as clips of the source, in order."""
    with rt.db.session() as session:
        out = exports.timeline(session, account, path_id(cut_id, "Cut"), fmt, media_url)
    return _file(out)


@router.get(
    "/{cut_id}/subtitle/export",
    response_class=Response,
    responses={**_FILE, **error_responses("not_found", "conflict", "validation_error")},
)
def export_subtitles(
    cut_id: str,
    account: CurrentAccount,
    rt: RuntimeDep,
    fmt: Annotated[
        exports.SubtitleFormat, Query(alias="format", description="srt or vtt.")
    ] = "srt",
) -> Response:
    """Subtitles of the kept speech, timed on the cut's timeline."""
    with rt.db.session() as session:
        out = exports.subtitles(session, account, path_id(cut_id, "Cut"), fmt)
    return _file(out)


def _file(out: exports.Export) -> Response:
    return Response(
        out.content,
        media_type=out.media_type,
        headers={"Content-Disposition": f'attachment; filename="{out.filename}"'},
    )
