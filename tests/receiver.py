"""A real webhook receiver for the tests: an HTTP server on loopback, in the test's process.

It verifies every request as a receiver would, with the ``standardwebhooks`` library and with
``svix``'s verifier (which reads the ``svix-*`` headers), against the secrets it is given, and
answers as the test scripts it: a status code, a delay, a dropped connection.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import standardwebhooks
import svix.webhooks


@dataclass
class Reply:
    status: int = 200
    delay: float = 0.0  # seconds before answering
    drop: bool = False  # close the connection without an answer
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived
    verified_by: list[str]  # the secrets whose signature standardwebhooks accepted
    svix_verified: bool

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def type(self) -> str:
        return str(self.json["type"])


def verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        standardwebhooks.Webhook(secret).verify(body, headers)
    except standardwebhooks.WebhookVerificationError:
        return False
    return True


def svix_verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        svix.webhooks.Webhook(secret).verify(body, headers)
    except svix.webhooks.WebhookVerificationError:
        return False
    return True


class Receiver:
    """Takes webhooks on ``url``; ``reply`` decides each answer (200 by default)."""

    def __init__(self, port: int = 0, path: str | None = None) -> None:
        # A path of its own: a port reused after an earlier test's receiver closed still gets
        # that test's endpoints' retries, which are not this receiver's.
        self.path = path or f"/hooks/{uuid.uuid4().hex}"
        self.secrets: list[str] = []
        self.received: list[Received] = []
        self.reply: Callable[[Received], Reply] = lambda _: Reply()
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver._take(self, body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def _take(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        if handler.path != self.path:
            handler.send_response(404)
            handler.send_header("content-length", "0")
            handler.end_headers()
            return
        headers = {k.lower(): v for k, v in handler.headers.items()}
        got = Received(
            path=handler.path,
            headers=headers,
            body=body,
            at=time.time(),
            verified_by=[s for s in list(self.secrets) if verifies(s, body, headers)],
            svix_verified=any(svix_verifies(s, body, headers) for s in list(self.secrets)),
        )
        with self._lock:
            self.received.append(got)
            self._lock.notify_all()
        reply = self.reply(got)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            handler.close_connection = True
            handler.connection.close()
            return
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("content-length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")

    def wait_for(
        self, done: Callable[[list[Received]], bool], timeout: float = 60
    ) -> list[Received]:
        """Wait until ``done`` holds of everything received so far; all of it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not done(self.received):
                left = deadline - time.monotonic()
                assert left > 0, f"timed out; received: {[r.json for r in self.received]}"
                self._lock.wait(min(left, 0.5))
            return list(self.received)

    def of_type(self, event_type: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.type == event_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
