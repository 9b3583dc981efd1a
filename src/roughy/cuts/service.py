"""Cuts: ordering one, listing them, and every change of a cut's state.

A cut is idempotent on (asset, script, options, overrides): the same script with the same
options and overrides on the same asset is the same cut. Options are compared resolved: the
ones a request leaves out are the server's defaults then, so leaving one out and giving its
default are the same; no overrides and an empty list are the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.assets import service as assets
from roughy.assets.models import Asset
from roughy.cuts.models import Cut
from roughy.db import owned, paginate, utcnow
from roughy.errors import ApiError
from roughy.events import service as events
from roughy.schemas import format_seconds
from roughy.speech.types import CutPlan, Decision, Override, SpanChoice, TakeChoice

if TYPE_CHECKING:
    from roughy.config import Settings

OPEN = ("pending", "processing")


def default_options(settings: Settings) -> dict[str, Any]:
    """The options of a cut that asks for none: the server's settings."""
    return {
        "max_pause_seconds": settings.cut_max_pause_seconds,
        "padding_before_seconds": settings.cut_padding_before_seconds,
        "padding_after_seconds": settings.cut_padding_after_seconds,
        "remove_fillers": settings.cut_remove_fillers,
        "take": settings.cut_policy,
        "remove_repeats": settings.cut_remove_repeats,
    }


def resolve_options(given: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """Every option of a cut: those ``given`` (by their API names), the defaults for the rest.
    Only options are kept (``given`` is validated: ``schemas.CutOptionsIn``)."""
    defaults = default_options(settings)
    return {name: _number(given.get(name, value)) for name, value in defaults.items()}


def _number(value: Any) -> Any:
    """A number as a float (1 and 1.0 are one option; -0.0 is 0.0); anything else as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) + 0.0
    return value


def inputs_key(
    script: str | None, options: Mapping[str, Any], overrides: Sequence[Mapping[str, Any]] = ()
) -> str:
    """What makes a cut the same one: sha256 of its script, resolved options and overrides.

    Migration 0006 computed this for the cuts made before options, with the built-in defaults:
    changing it orphans every cut made so far (a repeat would make a new one). Overrides are in
    it only when there are some, so the keys of cuts without stay as they were.
    """
    inputs: dict[str, Any] = {"script": script, "options": dict(options)}
    if overrides:
        inputs["overrides"] = [dict(o) for o in overrides]
    text = json.dumps(
        inputs,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def stored_overrides(given: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Overrides as a cut keeps them (validated: ``schemas.Override`` dumped): times to the
    millisecond, so that 1.2 and 1.200 are one choice."""
    out: list[dict[str, Any]] = []
    for choice in given:
        if "take" in choice:
            out.append({"line": int(choice["line"]), "take": int(choice["take"])})
        else:
            start, end = round(float(choice["start"]), 3), round(float(choice["end"]), 3)
            out.append({"start": start, "end": end, "keep": bool(choice["keep"])})
    return out


def engine_overrides(stored: Sequence[Mapping[str, Any]] | None) -> list[Override]:
    """A cut's stored overrides as the speech engine takes them."""
    return [
        TakeChoice(o["line"], o["take"])
        if "take" in o
        else SpanChoice(o["start"], o["end"], o["keep"])
        for o in stored or ()
    ]


def cuttable(session: Session, account: Account, asset_id: str) -> Asset:
    """The asset, if a cut can be made of it now; else the contract's 409."""
    return assets.usable(session, account, asset_id, "cut")


def create(
    session: Session,
    settings: Settings,
    asset: Asset,
    script: str | None,
    given: Mapping[str, Any],
    overrides: Sequence[Mapping[str, Any]] = (),
) -> tuple[Cut, bool]:
    """The cut of ``asset`` for ``script`` with the options ``given`` (the server's defaults
    for the rest) and a reviewer's ``overrides``: a new one (True), or the one made before
    (False)."""
    options = resolve_options(given, settings)
    choices = stored_overrides(overrides)
    key = inputs_key(script, options, choices)
    existing = _find(session, asset.id, key)
    if existing is not None:
        return existing, False
    cut = Cut(
        account_id=asset.account_id,
        project_id=asset.project_id,
        asset_id=asset.id,
        script=script,
        options=options,
        overrides=choices or None,
        inputs_key=key,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(cut)
    except IntegrityError:  # the same cut ordered at the same moment by another request
        existing = _find(session, asset.id, key)
        if existing is None:
            raise
        return existing, False
    return cut, True


def _find(session: Session, asset_id: str, key: str) -> Cut | None:
    return session.scalar(select(Cut).where(Cut.asset_id == asset_id, Cut.inputs_key == key))


def get(session: Session, account: Account, cut_id: str) -> Cut:
    return owned(session, Cut, cut_id, account.id, "Cut")


def list_(
    session: Session,
    account: Account,
    *,
    asset_id: str | None,
    project_id: str | None,
    state: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Cut], int]:
    where = [Cut.account_id == account.id]
    if asset_id is not None:
        where.append(Cut.asset_id == asset_id)
    if project_id is not None:
        where.append(Cut.project_id == project_id)
    if state is not None:
        where.append(Cut.state == state)
    return paginate(session, Cut, where, limit, offset)


def waiting_on(session: Session, asset_id: str) -> list[str]:
    """Cuts of the asset not decided yet."""
    return list(
        session.scalars(select(Cut.id).where(Cut.asset_id == asset_id, Cut.state.in_(OPEN)))
    )


def begin(session: Session, cut_id: str) -> None:
    """pending → processing: its transcript is being made, or its decision."""
    session.execute(
        update(Cut)
        .where(Cut.id == cut_id, Cut.state == "pending")
        .values(state="processing", started_at=utcnow())
    )


def complete(session: Session, cut: Cut, plan: CutPlan) -> bool:
    """→ completed with its plan; False when another worker concluded it first."""
    segments = [[round(s.start, 3), round(s.end, 3)] for s in plan.segments]
    kept_ms = sum(round(end * 1000) - round(start * 1000) for start, end in segments)
    won = _conclude(
        session,
        cut.id,
        state="completed",
        segments=segments,
        kept_ms=kept_ms,
        decisions=[_decision_row(d) for d in plan.decisions],
        missing_lines=list(plan.missing_lines),
    )
    if won:
        events.record(session, cut.account_id, "cut.completed", cut.id, asset_id=cut.asset_id)
    return won


def fail(session: Session, cut: Cut, code: str, message: str) -> bool:
    won = _conclude(session, cut.id, state="failed", error_code=code, error_message=message)
    if won:
        events.record(
            session,
            cut.account_id,
            "cut.failed",
            cut.id,
            asset_id=cut.asset_id,
            error_code=code,
            error_message=message,
        )
    return won


def _conclude(session: Session, cut_id: str, **values: object) -> bool:
    now = utcnow()
    done = session.execute(
        update(Cut)
        .where(Cut.id == cut_id, Cut.state.in_(OPEN))
        .values(completed_at=now, started_at=func.coalesce(Cut.started_at, now), **values)
        .returning(Cut.id)
    )
    return done.scalar_one_or_none() is not None


def _decision_row(d: Decision) -> dict[str, object]:
    return {
        "kind": d.kind,
        "text": d.text,
        "start": round(d.start, 3),
        "end": round(d.end, 3),
        "keep": d.keep,
        "reason": d.reason,
        "line": d.line,
        "note": d.note,
        "take": d.take,
    }


def completed(session: Session, account: Account, cut_id: str) -> Cut:
    """The cut, if its plan is there to read or export."""
    cut = get(session, account, cut_id)
    if cut.state != "completed":
        raise ApiError("conflict", f"The cut is {cut.state}; its plan is there once completed.")
    return cut


def decision_rows(cut: Cut) -> list[dict[str, object]]:
    """The stored decisions with their times as the API writes them."""
    return [
        {**d, "start": format_seconds(d["start"]), "end": format_seconds(d["end"])}
        for d in cut.decisions or ()
    ]
