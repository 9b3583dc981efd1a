"""HEAD /v1/uploads/{id} the short way: TUS clients poll it, so it skips the framework.

A HEAD that asks nothing unusual (a bearer key, ``Tus-Resumable: 1.0.0``, no ``Origin``, an
upload no PATCH is writing) is answered from one statement: on the event loop for SQLite, in one
thread hop for PostgreSQL. Every other HEAD, every error included, goes on to the FastAPI route,
which answers it the long way: the two ways cannot disagree about what is wrong, because only
one of them ever says it.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from roughy.accounts.service import KeyLookup, key_lookup
from roughy.db import parse_id
from roughy.runtime import Runtime
from roughy.uploads import service
from roughy.uploads.protocol import TUS_VERSION, offset_headers

PREFIX = "/v1/uploads/"
_TUS = TUS_VERSION.encode()


class FastUploadHead:
    """ASGI wrapper around the app; ``app.state.runtime`` is read once the lifespan set it."""

    def __init__(self, app: Any) -> None:
        self.app: ASGIApp = app
        self._state = app.state

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
        if rt.db.local:
            # A read of a local SQLite file in WAL mode never waits for a writer and takes
            # about 40 µs: less than the hop to a thread and back, whose GIL hand-over alone
            # doubles HEAD latency under load (bench/README.md, "HEAD").
            current = _plain_status(rt, key, upload_id)
        else:  # a server over the network may be slow or gone: never on the event loop
            current = await run_in_threadpool(_plain_status, rt, key, upload_id)
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
            scheme, _, rest = value.decode("latin-1").partition(" ")
            token = rest.strip() if scheme.lower() == "bearer" else None
        elif name == b"tus-resumable":
            tus = value == _TUS
        elif name == b"origin":
            return None  # a browser's request: CORS answers it the long way
    return key_lookup(token) if token and tus else None


def _plain_status(rt: Runtime, key: KeyLookup, upload_id: str) -> service.UploadStatus | None:
    with rt.db.engine.connect() as conn:
        return service.plain_status(conn, key, upload_id)
