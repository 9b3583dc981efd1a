"""What the client asks of its transport, as values: the client's logic (calls, uploads,
waits) is written once, as generators of these steps, and run by the sync ``Client`` and the
async ``AsyncClient`` alike (each sends the requests, sleeps the pauses, streams the files).

Every request names its ``Operation``: the method and path template as ``openapi.json`` has
them, with the models it sends and reads (``tests/client/test_openapi.py`` checks each).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

T = TypeVar("T")

# Bytes done and bytes in all, as a transfer goes (absolute: it may step back on a resume).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    query: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    response: Any = None  # a model, a Page[...] of one, or None (no JSON body)
    headers: tuple[str, ...] = ()  # request headers the operation documents (TUS)

    def url(self, **params: str) -> str:
        """The path with its parameters filled in (each quoted as one path segment)."""
        return self.path.format(**{k: quote(v, safe="") for k, v in params.items()})


@dataclass(frozen=True)
class FileSlice:
    """``length`` bytes of a file from ``offset``, read in blocks as they are sent."""

    path: Path
    offset: int
    length: int
    total: int
    progress: Progress | None = None


@dataclass(frozen=True)
class Call:
    """One request. ``url`` (absolute) replaces the operation's path, for the URLs the server
    hands out (an upload's ``Location``, a signed download URL)."""

    op: Operation
    params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str | int] = field(default_factory=dict)
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: FileSlice | None = None
    url: str | None = None
    signed: bool = False  # the URL carries its own credential: send no Authorization

    def target(self) -> str:
        return self.url if self.url is not None else self.op.url(**self.params)


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Save:
    """GET a signed URL into a file (written beside it, then renamed into place)."""

    op: Operation
    url: str
    dest: Path
    progress: Progress | None = None


Step = Call | Pause | Save
# A flow yields steps and receives, for a Call, the response (a transport failure is thrown
# into it as ``TransportFailed``), for a Save the final path, for a Pause None.
Flow = Generator[Step, Any, T]

BLOCK = 1024 * 1024


def block_sizes(part: FileSlice) -> Generator[int, None, None]:
    """The sizes of the reads that send ``part``: 1 MiB blocks, the last one shorter."""
    left = part.length
    while left > 0:
        n = min(BLOCK, left)
        yield n
        left -= n


def request(http: httpx.Client | httpx.AsyncClient, call: Call, content: Any) -> httpx.Request:
    """The httpx request of a call (``content``: the body's stream, when it has one)."""
    headers = dict(call.headers)
    if call.body is not None:
        headers["Content-Length"] = str(call.body.length)
    req = http.build_request(
        call.op.method,
        call.target(),
        params=dict(call.query) or None,
        json=call.json,
        content=content,
        headers=headers,
    )
    if call.signed:
        req.headers.pop("Authorization", None)
    return req
