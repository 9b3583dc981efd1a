"""The cut job, and ordering a cut: its transcript first, then the decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from roughy.assets.models import Asset
from roughy.cuts import planning
from roughy.cuts.models import Cut
from roughy.queue import claims
from roughy.transcripts import tasks as transcripts

if TYPE_CHECKING:
    from roughy.runtime import Runtime


def order(rt: Runtime, session: Session, cut: Cut, asset: Asset) -> None:
    """Queue what a new cut needs, once the caller's transaction commits."""
    transcripts.request(rt.jobs, session, asset)
    rt.jobs.submit_on_commit(session, run_cut, cut.id)


def run_cut(rt: Runtime, cut_id: str) -> None:
    with claims.holding(rt.db, run_cut.__name__, cut_id, rt.jobs.lease) as held:
        if held is None:
            return
        planning.settle(rt, cut_id)
