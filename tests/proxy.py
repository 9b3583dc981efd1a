"""TCP proxies of our own between a client and the server: one breaks the upstream stream on
purpose once a given number of bytes has passed (it closes it, resets it, or stalls it); the
other slows it down."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

Fault = Literal["close", "reset", "stall"]


@dataclass
class FaultProxy:
    upstream: tuple[str, int]
    fault: Fault
    after_bytes: int
    port: int = 0
    passed: int = 0  # bytes forwarded upstream before the fault
    broken: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        server = socket.create_connection(self.upstream)
        self._sockets += [client, server]
        threading.Thread(target=self._down, args=(server, client), daemon=True).start()
        self._up(client, server)

    def _up(self, client: socket.socket, server: socket.socket) -> None:
        while True:
            try:
                data = client.recv(1 << 16)
            except OSError:
                return
            if not data:
                server.shutdown(socket.SHUT_WR)
                return
            room = self.after_bytes - self.passed
            if len(data) >= room:
                server.sendall(data[:room])
                self.passed += room
                self._break(client, server)
                return
            server.sendall(data)
            self.passed += len(data)

    def _break(self, client: socket.socket, server: socket.socket) -> None:
        if self.fault == "close":
            server.close()
            client.close()
        elif self.fault == "reset":
            for sock in (server, client):  # SO_LINGER 0: close sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
        # "stall": both stay open and nothing more is forwarded
        self.broken.set()

    def _down(self, server: socket.socket, client: socket.socket) -> None:
        while True:
            try:
                data = server.recv(1 << 16)
                if not data:
                    return
                client.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


@dataclass
class SlowProxy:
    """Forwards every connection to ``upstream``, the client's bytes at most ``rate`` bytes a
    second while ``slow`` is set (so a test can act while a long request is in flight), the
    server's at once. When either side ends a connection, both ends close."""

    upstream: tuple[str, int]
    rate: int
    port: int = 0
    passed: int = 0  # bytes forwarded upstream, all connections together
    slow: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.slow.set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, up: bool) -> None:
        piece = 16 * 1024
        try:
            while data := source.recv(piece):
                target.sendall(data)
                if up:
                    self.passed += len(data)
                    if self.slow.is_set():
                        time.sleep(len(data) / self.rate)
        except OSError:
            pass
        # Both ends close, as the server's own socket would: a client still sending into a
        # connection the server has left gets a reset, not a window that never opens again
        # (a shutdown alone would leave the proxy's socket open and unread).
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
