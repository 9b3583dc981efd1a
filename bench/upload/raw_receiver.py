#!/usr/bin/env python3
"""The raw receiver baseline: TUS-shaped, and nothing else.

POST makes an empty file and answers 201 with its Location; PATCH appends the request body to
the file in 1 MiB reads and answers 204 with the offset; HEAD and OPTIONS answer the offset.
No validation, no database, no fsync: how fast Python takes bytes off a socket into a file on
this machine. PORT and DATA_DIR come from the environment.
"""

from __future__ import annotations

import os
import socketserver
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

DIRECTORY = Path(os.environ["DATA_DIR"])
BUFFER = 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, **headers: str) -> None:
        self.send_response(status)
        for name, value in {"Tus-Resumable": "1.0.0", "Content-Length": "0", **headers}.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def _file(self) -> Path:
        return DIRECTORY / self.path.rstrip("/").rsplit("/", 1)[1]

    def do_OPTIONS(self) -> None:
        self._answer(204)

    def do_POST(self) -> None:
        name = uuid.uuid4().hex
        (DIRECTORY / name).touch()
        self._answer(201, Location=f"/files/{name}")

    def do_HEAD(self) -> None:
        self._answer(200, Upload_Offset=str(self._file().stat().st_size))

    def do_PATCH(self) -> None:
        left = int(self.headers["Content-Length"])
        view = memoryview(bytearray(BUFFER))
        with self._file().open("ab", buffering=0) as out:
            while left:
                got = self.rfile.readinto(view[: min(BUFFER, left)])
                if not got:
                    break
                out.write(view[:got])
                left -= got
        self._answer(204, Upload_Offset=str(self._file().stat().st_size))

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(os.environ["PORT"])), Handler) as server:
        server.serve_forever()
