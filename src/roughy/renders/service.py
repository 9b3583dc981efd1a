"""Renders: ordering one, listing them, cancelling, and every change of a render's state.

A render is idempotent on (asset, cut, output): the same cut of the same asset in the same
output is the same render, the output compared with every field present (an omitted field and a
null are both Auto). A failed or cancelled render gives its inputs up, so ordering them again
makes a new one. Renders are free.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.assets import service as assets
from roughy.assets.models import Asset
from roughy.cuts.models import Cut
from roughy.db import owned, paginate, utcnow
from roughy.errors import ApiError, validation_error
from roughy.events import service as events
from roughy.media.presets import FORMATS
from roughy.renders.models import Render

OPEN = ("pending", "processing")
# How long a client should wait before asking again while the cut is being decided.
CUT_RETRY_AFTER_SECONDS = 5
VIDEO_ONLY = ("resolution", "video_bitrate")


def inputs_key(cut_id: str | None, output: Mapping[str, Any]) -> str:
    text = json.dumps({"cut_id": cut_id, "output": dict(output)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def orderable(
    session: Session,
    account: Account,
    asset_id: str,
    cut_id: str | None,
    output: Mapping[str, Any],
) -> tuple[Asset, Cut | None]:
    """The asset and cut to render, if they can be rendered now as ``output`` asks; else the
    contract's 404, 409 or 422."""
    asset = assets.usable(session, account, asset_id, "rendered")
    cut = _completed_cut(session, account, asset, cut_id) if cut_id is not None else None
    video = FORMATS[output["format"]].video
    if video and asset.type != "video":
        raise validation_error(
            "body.output.format", "The asset has no picture: render it as m4a or mp3."
        )
    for name in VIDEO_ONLY:
        if output.get(name) is not None and not video:
            raise validation_error(f"body.output.{name}", f"{name} applies to mp4 and mov only.")
    return asset, cut


def _completed_cut(session: Session, account: Account, asset: Asset, cut_id: str) -> Cut:
    cut = owned(session, Cut, cut_id, account.id, "Cut")
    if cut.asset_id != asset.id:
        raise validation_error("body.cut_id", "The cut is of another asset.")
    if cut.state in ("pending", "processing"):
        raise ApiError(
            "cut_processing",
            "The cut is still being decided; try again in a few seconds.",
            headers={"Retry-After": str(CUT_RETRY_AFTER_SECONDS)},
        )
    if cut.state != "completed":
        raise ApiError("cut_failed", "The cut failed, so there is nothing of it to render.")
    return cut


def create(
    session: Session, asset: Asset, cut: Cut | None, output: Mapping[str, Any]
) -> tuple[Render, bool]:
    """The render of ``asset`` (``cut`` of it) as ``output``: a new one (True), or the one
    ordered before (False)."""
    cut_id = cut.id if cut is not None else None
    key = inputs_key(cut_id, output)
    existing = _find(session, asset.id, key)
    if existing is not None:
        return existing, False
    render = Render(
        account_id=asset.account_id,
        project_id=asset.project_id,
        asset_id=asset.id,
        cut_id=cut_id,
        output=dict(output),
        inputs_key=key,
        progress=0.0,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(render)
    except IntegrityError:  # the same render ordered at the same moment by another request
        existing = _find(session, asset.id, key)
        if existing is None:
            raise
        return existing, False
    return render, True


def _find(session: Session, asset_id: str, key: str) -> Render | None:
    return session.scalar(
        select(Render).where(Render.asset_id == asset_id, Render.inputs_key == key)
    )


def get(session: Session, account: Account, render_id: str) -> Render:
    return owned(session, Render, render_id, account.id, "Render")


def list_(
    session: Session,
    account: Account,
    *,
    asset_id: str | None,
    cut_id: str | None,
    state: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Render], int]:
    where = [Render.account_id == account.id]
    if asset_id is not None:
        where.append(Render.asset_id == asset_id)
    if cut_id is not None:
        where.append(Render.cut_id == cut_id)
    if state is not None:
        where.append(Render.state == state)
    return paginate(session, Render, where, limit, offset)


def of_asset(session: Session, asset_id: str) -> list[str]:
    return list(session.scalars(select(Render.id).where(Render.asset_id == asset_id)))


def cancel(session: Session, account: Account, render_id: str) -> Render:
    """pending/processing → cancelled; its encoder stops within 2 s. A concluded render: 409."""
    render = get(session, account, render_id)
    if not _conclude(session, render, state="cancelled"):
        session.refresh(render)
        raise ApiError("conflict", f"The render is {render.state}; only an open one can stop.")
    events.record(
        session, render.account_id, "render.cancelled", render.id, asset_id=render.asset_id
    )
    session.refresh(render)
    return render


def begin(session: Session, render_id: str) -> Render | None:
    """pending → processing (again, after a worker died: processing stays); None when it is
    no longer open."""
    render = session.get(Render, render_id, with_for_update=True)
    if render is None or render.state not in OPEN:
        return None
    render.state = "processing"
    render.progress = 0.0
    render.started_at = render.started_at or utcnow()
    return render


def still_open(session: Session, render_id: str) -> bool:
    state = session.scalar(select(Render.state).where(Render.id == render_id))
    return state in OPEN


def report_progress(session: Session, render_id: str, fraction: float) -> None:
    session.execute(
        update(Render)
        .where(Render.id == render_id, Render.state == "processing")
        .values(progress=round(min(1.0, max(0.0, fraction)), 4))
    )


def complete(session: Session, render: Render, size_bytes: int, duration_ms: int) -> bool:
    """→ completed; False when it was cancelled or removed meanwhile."""
    won = _conclude(
        session,
        render,
        state="completed",
        progress=1.0,
        size_bytes=size_bytes,
        duration_ms=duration_ms,
        keep_key=True,
    )
    if won:
        events.record(
            session, render.account_id, "render.completed", render.id, asset_id=render.asset_id
        )
    return won


def fail(session: Session, render: Render, code: str, message: str) -> bool:
    won = _conclude(session, render, state="failed", error_code=code, error_message=message)
    if won:
        events.record(
            session,
            render.account_id,
            "render.failed",
            render.id,
            asset_id=render.asset_id,
            error_code=code,
            error_message=message,
        )
    return won


def _conclude(session: Session, render: Render, *, keep_key: bool = False, **values: Any) -> bool:
    """An open render concludes; a failed or cancelled one gives its inputs key up."""
    now = utcnow()
    if not keep_key:
        values["inputs_key"] = None
    done = session.execute(
        update(Render)
        .where(Render.id == render.id, Render.state.in_(OPEN))
        .values(completed_at=now, **values)
        .returning(Render.id)
    )
    return done.scalar_one_or_none() is not None


def filename(render: Render, asset_filename: str | None = None) -> str:
    """What a download is saved as: ``<asset>-cut-<id8>-720p.mp4`` (Mux-style tier names),
    ``<asset>`` being the asset's file name without its extension when it has one."""
    output = render.output
    stem = asset_filename.rpartition(".")[0] or asset_filename if asset_filename else None
    parts = [stem or render.asset_id[:8], f"cut-{render.cut_id[:8]}" if render.cut_id else "full"]
    parts.append(output.get("resolution") or "source")
    return "-".join(parts) + "." + FORMATS[output["format"]].extension


def object_key(render_id: str) -> str:
    """The render's file in the blob store."""
    return f"render-{render_id}"
