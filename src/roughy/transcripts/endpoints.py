from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from roughy.auth import CurrentAccount
from roughy.errors import error_responses
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import path_id
from roughy.transcripts import service
from roughy.transcripts.schemas import TranscriptOut

router = APIRouter(prefix="/assets", tags=["transcripts"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@router.get(
    "/{asset_id}/transcript", response_model=TranscriptOut, responses=error_responses("not_found")
)
def get_transcript(asset_id: str, account: CurrentAccount, rt: RuntimeDep) -> TranscriptOut:
    """What was said in the asset, word by word, with the fillers (made once it is ready)."""
    with rt.db.session() as session:
        transcript = service.get(session, account, path_id(asset_id, "Asset"))
        return TranscriptOut.of(transcript)
