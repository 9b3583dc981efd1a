"""Transcripts: one per asset, made once and read by every cut of it.

Each change of a transcript's state is one function here, inside the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.assets import service as assets
from roughy.assets.models import Asset
from roughy.db import upsert_into, utcnow
from roughy.errors import not_found
from roughy.speech import types as speech
from roughy.transcripts.models import Transcript

if TYPE_CHECKING:
    import numpy as np

OPEN = ("pending", "processing")


def ensure(session: Session, asset: Asset) -> bool:
    """The asset's transcript exists from here on; True when this call created it."""
    stmt = (
        upsert_into(session, Transcript)
        .values(
            asset_id=asset.id, account_id=asset.account_id, state="pending", created_at=utcnow()
        )
        .on_conflict_do_nothing(index_elements=["asset_id"])
        .returning(Transcript.asset_id)
    )
    return session.execute(stmt).scalar_one_or_none() is not None


def get(session: Session, account: Account, asset_id: str) -> Transcript:
    assets.get(session, account, asset_id)
    transcript = session.get(Transcript, asset_id)
    if transcript is None:
        raise not_found("Transcript")
    return transcript


def begin(session: Session, asset_id: str) -> Transcript | None:
    """pending → processing; None when there is nothing (left) to transcribe."""
    transcript = session.get(Transcript, asset_id, with_for_update=True)
    if transcript is None or transcript.state not in OPEN:
        return None
    transcript.state = "processing"
    transcript.started_at = transcript.started_at or utcnow()
    return transcript


def complete(
    session: Session,
    asset_id: str,
    heard: speech.Transcript,
    levels: np.ndarray,
    frame_rate: float | None,
) -> bool:
    """processing → completed with the words heard; False when it was no longer open."""
    return _conclude(
        session,
        asset_id,
        state="completed",
        language=heard.language,
        model=heard.model,
        duration_ms=round(heard.duration * 1000),
        frame_rate=frame_rate,
        words=[_word_row(w) for w in heard.words],
        levels=levels.astype("<f2").tobytes(),
    )


def fail(session: Session, asset_id: str, code: str, message: str) -> bool:
    return _conclude(session, asset_id, state="failed", error_code=code, error_message=message)


def _conclude(session: Session, asset_id: str, **values: object) -> bool:
    done = session.execute(
        update(Transcript)
        .where(Transcript.asset_id == asset_id, Transcript.state.in_(OPEN))
        .values(completed_at=utcnow(), **values)
        .returning(Transcript.asset_id)
    )
    return done.scalar_one_or_none() is not None


def words_of(transcript: Transcript) -> list[speech.Word]:
    return [
        speech.Word(
            text=w["text"],
            start=w["start"],
            end=w["end"],
            kind=w["kind"],
            confidence=w["confidence"],
        )
        for w in transcript.words or ()
    ]


def levels_of(transcript: Transcript) -> np.ndarray | None:
    import numpy as np

    if not transcript.levels:
        return None
    return np.frombuffer(transcript.levels, dtype="<f2").astype(np.float32)


def _word_row(word: speech.Word) -> dict[str, object]:
    return {
        "text": word.text,
        "start": round(word.start, 3),
        "end": round(word.end, 3),
        "kind": word.kind,
        "confidence": round(word.confidence, 3),
    }
