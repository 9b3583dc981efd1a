"""HEAD /v1/uploads/{id} the short way: TUS clients poll it, so it skips the framework.

A HEAD that asks nothing unusual (a bearer key, ``Tus-Resumable: 1.0.0``, no ``Origin``, an
upload no PATCH is writing and no killed one left bytes in) is answered from one statement: on
the event loop for SQLite, in one thread hop for PostgreSQL. Every other HEAD, every error
included, goes on to the FastAPI route, which answers it the long way: the two ways cannot
disagree about what is wrong, because only one of them ever says it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from roughy.accounts.service import KeyLookup, key_lookup
from roughy.auth import bearer_token
from roughy.db import Database, parse_id
from roughy.runtime import Runtime
from roughy.uploads import recovery, service
from roughy.uploads.protocol import TUS_VERSION, offset_headers
from roughy.uploads.service import UploadStatus

PREFIX = "/v1/uploads/"
_TUS = TUS_VERSION.encode()


class FastUploadHead:
    """ASGI wrapper around the app; ``app.state.runtime`` is read once the lifespan set it."""

    def __init__(self, app: Any) -> None:
        self.app: ASGIApp = app
        self._state = app.state
        self._local: LocalStatusReader | Literal[False] | None = None  # None: not yet opened

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            answer = await self._answer(scope)
            if answer is not None:
                await send({"type": "http.response.start", "status": 200, "headers": answer})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope) -> list[tuple[bytes, bytes]] | None:
        path: str = scope["path"]
        if not path.startswith(PREFIX):
            return None
        upload_id = parse_id(path[len(PREFIX) :])
        key = _plain_request(scope["headers"])
        rt: Runtime | None = getattr(self._state, "runtime", None)
        if upload_id is None or key is None or rt is None or rt.locks.busy(upload_id):
            return None
        if recovery.pending(rt, upload_id):
            return None
        if self._local is None and rt.db.local:
            self._local = LocalStatusReader.open(rt.db) or False
        if self._local:
            # A read of a local SQLite file in WAL mode does not wait for writers and takes
            # about 10 µs: less than the hop to a thread and back, whose GIL hand-over alone
            # doubles HEAD latency under load (docs/benchmarks.md, "HEAD").
            current = self._local.status(key, upload_id)
        else:  # a server over the network may be slow or gone: never on the event loop
            current = await run_in_threadpool(_status_by_engine, rt, key, upload_id)
        if current is None:
            return None
        headers = offset_headers(current.offset, current.expires_at)
        headers.update({"Upload-Length": str(current.length), "Cache-Control": "no-store"})
        fields = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        fields += [(b"content-length", b"0"), (b"tus-resumable", _TUS)]
        return fields


def _plain_request(headers: list[tuple[bytes, bytes]]) -> KeyLookup | None:
    """The key of a HEAD with nothing unusual about it; None sends it the long way."""
    token = None
    tus = False
    for name, value in headers:
        if name == b"authorization":
            token = bearer_token(value.decode("latin-1"))
        elif name == b"tus-resumable":
            tus = value == _TUS
        elif name == b"origin":
            return None  # a browser's request: CORS answers it the long way
    return key_lookup(token) if token and tus else None


def _status_by_engine(rt: Runtime, key: KeyLookup, upload_id: str) -> UploadStatus | None:
    with rt.db.engine.connect() as conn:
        rows = conn.execute(service.STATUS_BY_KEY, {"prefix": key.prefix, "upload_id": upload_id})
        return service.plain_status(rows, key, upload_id)


class LocalStatusReader:
    """The statement on a read-only SQLite connection of the event loop's own.

    It skips the engine's pool and result machinery (most of a HEAD's cost), and gives up
    rather than wait: a read that finds the file locked (a checkpoint truncating the WAL, say)
    sends the HEAD the long way instead of blocking the loop.
    """

    BUSY_MS = 20

    def __init__(self, connection: sqlite3.Connection, sql: str, names: Sequence[str]) -> None:
        self._connection = connection
        self._sql = sql
        self._names = names

    @classmethod
    def open(cls, db: Database) -> LocalStatusReader | None:
        path = db.engine.url.database
        if not path or path == ":memory:":
            return None
        uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {cls.BUSY_MS}")
        compiled = service.STATUS_BY_KEY.compile(dialect=db.engine.dialect)
        return cls(connection, compiled.string, compiled.positiontup or ())

    def status(self, key: KeyLookup, upload_id: str) -> UploadStatus | None:
        values = {"prefix": key.prefix, "upload_id": upload_id}
        try:
            rows = self._connection.execute(self._sql, [values[n] for n in self._names]).fetchall()
        except sqlite3.OperationalError:
            return None
        return service.plain_status(map(_typed, rows), key, upload_id)


def _typed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """SQLite keeps times as text, in UTC (roughy.db.UTCDateTime)."""
    key_hash, revoked_at, last_used_at, length, offset, expires_at, completed_at = row
    return (key_hash, _time(revoked_at), _time(last_used_at), length, offset, _time(expires_at),
            _time(completed_at))  # fmt: skip


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)
