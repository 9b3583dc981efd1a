"""A reverse proxy without sticky sessions, at its most hostile: every request goes to the next
node in turn. Each request is sent with ``Connection: close`` (so each comes on a connection of
its own and the client opens a new one for the next), its body relayed by ``Content-Length``,
and the node's answer relayed until the node closes."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Iterator


class AlternatingProxy:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self._next = itertools.cycle(backends)
        self.requests: list[tuple[str, int]] = []  # (first line, backend port), in order
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        backend_writer = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            kept = [
                line for line in lines[1:] if line and not line.lower().startswith("connection:")
            ]
            length = 0
            for line in kept:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            host, port = next(self._next)
            self.requests.append((lines[0], port))
            backend_reader, backend_writer = await asyncio.open_connection(host, port)
            backend_writer.write(
                ("\r\n".join([lines[0], *kept, "Connection: close", "", ""])).encode("latin-1")
            )
            await asyncio.gather(
                _relay(reader, backend_writer, length), _relay(backend_reader, writer, None)
            )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (writer, backend_writer):
                if w is not None:
                    with contextlib.suppress(Exception):
                        w.close()

    def start(self) -> AlternatingProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _relay(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, length: int | None
) -> None:
    """``length`` bytes (None: until the end) from ``reader`` to ``writer``."""
    left = length
    while left is None or left > 0:
        data = await reader.read(1 << 20 if left is None else min(1 << 20, left))
        if not data:
            break
        writer.write(data)
        await writer.drain()
        if left is not None:
            left -= len(data)
    if length is None:
        writer.close()


@contextlib.contextmanager
def alternating(ports: list[int]) -> Iterator[AlternatingProxy]:
    proxy = AlternatingProxy([("127.0.0.1", p) for p in ports]).start()
    try:
        yield proxy
    finally:
        proxy.stop()
