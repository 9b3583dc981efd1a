"""A TCP relay of our own in front of a service (the S3 server, Redis): it counts connections
and the bytes the service sent, and can be cut (every connection dropped, new ones refused at
once, as a service that went away) and restored."""

from __future__ import annotations

import contextlib
import socket
import threading

BUFFER = 128 * 1024  # small socket buffers: what it counts is about what reached the client


class Relay:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.connections = 0
        self.bytes_down = 0
        self.cut = False
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def to(cls, url: str) -> Relay:
        """A relay to the host and port of ``url`` (``scheme://host:port...``)."""
        host, _, port = url.split("://", 1)[1].split("/", 1)[0].rpartition(":")
        return cls((host, int(port)))

    def url(self, scheme: str = "http", path: str = "") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.cut:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
            with self._lock:
                self.connections += 1
                self._open |= {client, server}
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, down: bool) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
                if down:
                    with self._lock:
                        self.bytes_down += len(data)
        except OSError:
            pass
        finally:
            self._drop(source, target)

    def _drop(self, *sockets: socket.socket) -> None:
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
            with self._lock:
                self._open.discard(s)

    def cut_off(self) -> None:
        """Drop every connection and refuse new ones until :meth:`restore`."""
        self.cut = True
        with self._lock:
            live = list(self._open)
        self._drop(*live)

    def restore(self) -> None:
        self.cut = False

    def close(self) -> None:
        self._listener.close()
        self.cut_off()
