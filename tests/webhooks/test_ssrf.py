"""SSRF rules on the default settings (the session's server): https to public addresses only,
checked at registration and again, after resolving the name, at every attempt. A listener on
loopback counts the connections it gets, to prove nothing was sent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from roughy.db import Database
from roughy.webhooks import signing
from roughy.webhooks.models import WebhookEndpoint
from tests.helpers import assert_envelope
from tests.webhooks.conftest import ALL_TYPES, attempts, wait_until


class Listener:
    """A TCP port on 127.0.0.1 that accepts and counts connections, and answers nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://10.0.0.1/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://[fd00:ec2::254]/hooks",
        "https://100.64.0.1/hooks",
        "https://0.0.0.0/hooks",
        "https://localhost/hooks",  # a name: refused for what it resolves to
    ],
)
def test_the_default_refuses_private_loopback_and_metadata_addresses(
    client: httpx.Client, url: str
) -> None:
    r = client.post("/v1/webhook-endpoints", json={"url": url, "event_types": ["asset.ready"]})
    error = assert_envelope(r, 422, "validation_error")
    assert [f["field"] for f in error["fields"]] == ["body.url"]
    assert client.get("/v1/webhook-endpoints").json()["total"] == 0


def test_the_default_refuses_plain_http_and_loopback_and_connects_to_nothing(
    client: httpx.Client, listener: Listener
) -> None:
    port = listener.port
    urls = [f"http://127.0.0.1:{port}/", f"https://127.0.0.1:{port}/", f"https://localhost:{port}/"]
    for url in urls:
        r = client.post("/v1/webhook-endpoints", json={"url": url, "event_types": ALL_TYPES})
        assert_envelope(r, 422, "validation_error")
    public = client.post(
        "/v1/webhook-endpoints",
        json={"url": "https://93.184.215.14/hooks", "event_types": ["asset.pending_payment"]},
    )
    assert public.status_code == 201, public.text
    r = client.patch(f"/v1/webhook-endpoints/{public.json()['id']}", json={"url": urls[1]})
    assert_envelope(r, 422, "validation_error")
    assert listener.connections == 0


def test_a_name_that_resolves_inward_at_delivery_is_refused_unsent(
    client: httpx.Client, db: Database, listener: Listener
) -> None:
    """As if ``localhost`` had resolved to a public address when it was registered (the row
    is written here, past the registration check): the attempt resolves it again, finds
    127.0.0.1, and records a refusal without connecting."""
    me = client.get("/v1/users/me").json()
    with db.session() as session:
        endpoint = WebhookEndpoint(
            account_id=me["id"],
            url=f"https://localhost:{listener.port}/hooks",
            event_types=ALL_TYPES,
            secret=signing.new_secret(),
            disabled=False,
        )
        session.add(endpoint)
        session.flush()
        endpoint_id = endpoint.id
    assert client.post(f"/v1/webhook-endpoints/{endpoint_id}/test").status_code == 202
    (tried,) = wait_until(lambda: attempts(client, endpoint_id), what="the attempt")
    assert tried["status_code"] is None
    assert "refused" in tried["error"] and "private, loopback" in tried["error"]
    assert listener.connections == 0
