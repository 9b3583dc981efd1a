"""Delivery to a real receiver on loopback that verifies every request with standardwebhooks
and svix: signatures, retries (5xx, timeouts, refused connections), 410, endpoints that fail
for too long, rotation, bounded bursts, a worker killed mid-delivery, a rolled-back change."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from roughy.config import Settings
from roughy.events import service as events
from roughy.jobs import register_jobs
from roughy.runtime import build_runtime
from roughy.webhooks import signing
from tests.conftest import Server
from tests.helpers import assert_envelope
from tests.receiver import Received, Receiver, Reply, svix_verifies, verifies
from tests.webhooks.conftest import (
    account_on,
    attempts,
    register,
    tmp_server,
    wait_until,
    worker_pids,
)


def _test(client: httpx.Client, endpoint_id: str) -> str:
    r = client.post(f"/v1/webhook-endpoints/{endpoint_id}/test")
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _replies(*replies: Reply) -> Callable[[Received], Reply]:
    """Answer with these in turn, then 200."""
    left = list(replies)
    lock = threading.Lock()

    def reply(_: Received) -> Reply:
        with lock:
            return left.pop(0) if left else Reply()

    return reply


def _concluded(client: httpx.Client, endpoint_id: str, n: int) -> list[dict[str, Any]]:
    return wait_until(
        lambda: (log := attempts(client, endpoint_id)) and len(log) >= n and log,
        what=f"{n} attempts logged",
    )


def test_a_delivery_is_signed_and_retried_after_5xx_with_the_same_id(
    hooks: httpx.Client, receiver: Receiver
) -> None:
    endpoint = register(hooks, receiver)
    receiver.reply = _replies(Reply(500), Reply(503))
    event_id = _test(hooks, endpoint["id"])
    got = receiver.wait_for(lambda rs: len(rs) >= 3)
    assert [r.id for r in got] == [event_id] * 3
    assert all(r.verified_by == [endpoint["secret"]] and r.svix_verified for r in got)
    assert all(r.headers["svix-signature"] == r.headers["webhook-signature"] for r in got)
    assert all(r.headers["svix-timestamp"] == r.headers["webhook-timestamp"] for r in got)
    assert json.loads(got[0].body) == {
        "type": "webhook.test",
        "data": {"entity_id": endpoint["id"], "asset_id": None},
    }
    # Each attempt is signed afresh (its own timestamp), over the same body.
    assert len({r.body for r in got}) == 1
    assert int(got[2].headers["webhook-timestamp"]) >= int(got[0].headers["webhook-timestamp"])

    log = _concluded(hooks, endpoint["id"], 3)
    assert [(a["attempt"], a["status_code"], a["event_id"]) for a in log] == [
        (1, 500, event_id),
        (2, 503, event_id),
        (3, 200, event_id),
    ]
    assert all(a["latency_ms"] >= 0 and a["error"] is None for a in log)


def test_a_tampered_body_id_or_timestamp_fails_verification(
    hooks: httpx.Client, receiver: Receiver
) -> None:
    endpoint = register(hooks, receiver)
    _test(hooks, endpoint["id"])
    (got,) = receiver.wait_for(lambda rs: len(rs) >= 1)
    secret, headers = endpoint["secret"], got.headers
    assert verifies(secret, got.body, headers) and svix_verifies(secret, got.body, headers)
    tampered = got.body.replace(b"webhook.test", b"asset.ready.")
    old = str(int(headers["webhook-timestamp"]) - 600)
    for body, changed in [
        (tampered, {}),
        (got.body, {"webhook-id": "another", "svix-id": "another"}),
        (got.body, {"webhook-timestamp": old, "svix-timestamp": old}),
    ]:
        assert not verifies(secret, body, {**headers, **changed})
        assert not svix_verifies(secret, body, {**headers, **changed})
    assert not verifies(signing.new_secret(), got.body, headers)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_receiver_that_is_down_gets_the_event_once_it_is_back(
    hooks: httpx.Client, receivers: Callable[..., Receiver]
) -> None:
    """Connections refused (the receiver stopped), then it starts again on its port."""
    port = _closed_port()
    r = hooks.post(
        "/v1/webhook-endpoints",
        json={"url": f"http://127.0.0.1:{port}/hooks", "event_types": ["asset.ready"]},
    )
    endpoint = r.json()
    event_id = _test(hooks, endpoint["id"])
    refused = _concluded(hooks, endpoint["id"], 2)
    assert all(a["status_code"] is None and "connection" in a["error"] for a in refused)
    back = receivers(port, "/hooks")
    back.secrets.append(endpoint["secret"])
    (got,) = back.wait_for(lambda rs: len(rs) >= 1)
    assert got.id == event_id and got.verified_by == [endpoint["secret"]]
    wait_until(lambda: attempts(hooks, endpoint["id"])[-1]["status_code"] == 200)


def test_an_attempt_without_an_answer_in_time_is_retried(
    hooks: httpx.Client, receiver: Receiver
) -> None:
    endpoint = register(hooks, receiver)
    receiver.reply = _replies(Reply(delay=4))  # past the server's 2 s
    event_id = _test(hooks, endpoint["id"])
    log = _concluded(hooks, endpoint["id"], 2)
    assert log[0]["status_code"] is None and "timed out" in log[0]["error"]
    assert log[1]["status_code"] == 200
    assert {r.id for r in receiver.received} == {event_id}


def test_410_disables_the_endpoint(hooks: httpx.Client, receiver: Receiver) -> None:
    endpoint = register(hooks, receiver)
    receiver.reply = lambda _: Reply(410)
    event_id = _test(hooks, endpoint["id"])
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    gone = wait_until(lambda: (e := hooks.get(path).json())["disabled"] and e)
    assert (gone["disabled_reason"], gone["disabled_at"] is not None) == ("gone", True)
    assert [a["status_code"] for a in attempts(hooks, endpoint["id"])] == [410]
    assert_envelope(hooks.post(f"{path}/test"), 409, "conflict")
    r = hooks.post(f"/v1/events/{event_id}/redeliver", json={"endpoint_id": endpoint["id"]})
    assert_envelope(r, 409, "conflict")
    # Enabled again, it is sent to.
    receiver.reply = lambda _: Reply()
    assert hooks.patch(path, json={"disabled": False}).json()["disabled"] is False
    again = _test(hooks, endpoint["id"])
    receiver.wait_for(lambda rs: rs[-1].id == again)


def test_an_endpoint_failing_every_attempt_for_the_period_is_disabled(
    hooks: httpx.Client, receiver: Receiver
) -> None:
    """The server's period is 6 s (5 days by default)."""
    endpoint = register(hooks, receiver)
    receiver.reply = lambda _: Reply(500)
    _test(hooks, endpoint["id"])
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    failing = wait_until(lambda: (e := hooks.get(path).json())["failing_since"] and e)
    assert failing["disabled"] is False
    off = wait_until(lambda: (e := hooks.get(path).json())["disabled"] and e, what="disabled")
    assert (off["disabled_reason"], off["failing_since"]) == ("failing", failing["failing_since"])
    log = attempts(hooks, endpoint["id"])
    assert len(log) >= 2 and {a["status_code"] for a in log} == {500}


def test_both_secrets_sign_during_a_rotation_then_the_new_one_alone(
    hooks: httpx.Client, receiver: Receiver
) -> None:
    """The server's overlap is 4 s (24 hours by default)."""
    endpoint = register(hooks, receiver)
    old = endpoint["secret"]
    new = hooks.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret").json()["secret"]
    receiver.secrets.append(new)
    first = _test(hooks, endpoint["id"])
    got = receiver.wait_for(lambda rs: any(r.id == first for r in rs))[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert got.verified_by == [old, new]
    assert svix_verifies(old, got.body, got.headers) and svix_verifies(new, got.body, got.headers)

    def signed_once() -> Received | None:
        event_id = _test(hooks, endpoint["id"])
        got = receiver.wait_for(lambda rs: any(r.id == event_id for r in rs))[-1]
        return got if len(got.headers["webhook-signature"].split(" ")) == 1 else None

    later = wait_until(signed_once, what="the overlap's end")
    assert later.verified_by == [new]


def test_a_burst_to_one_endpoint_goes_out_a_few_at_a_time(
    hooks: httpx.Client, receiver: Receiver
) -> None:
    """The server sends at most 3 at once to one endpoint (ROUGHY_WEBHOOK_CONCURRENCY)."""
    endpoint = register(hooks, receiver)
    in_flight, most = [0], [0]
    lock = threading.Lock()
    gate = threading.Semaphore(0)

    def reply(_: Received) -> Reply:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        gate.acquire(timeout=0.5)  # held until the next arrives or a moment passes
        with lock:
            in_flight[0] -= 1
        return Reply()

    receiver.reply = reply
    sent = {_test(hooks, endpoint["id"]) for _ in range(12)}
    got = receiver.wait_for(lambda rs: {r.id for r in rs} >= sent)
    assert 2 <= most[0] <= 3, most
    assert sorted(r.id for r in got) == sorted(sent)  # each once: none was retried


def test_redelivery_sends_the_event_again_with_its_id(
    hooks: httpx.Client, receivers: Callable[..., Receiver]
) -> None:
    one, two = receivers(), receivers()
    first = register(hooks, one, ["asset.ready"])
    second = register(hooks, two, ["cut.completed"])
    event_id = _test(hooks, first["id"])
    one.wait_for(lambda rs: len(rs) == 1)
    r = hooks.post(f"/v1/events/{event_id}/redeliver")
    assert r.status_code == 202, r.text
    assert r.json() == {"event_id": event_id, "endpoint_ids": [first["id"]]}
    assert [g.id for g in one.wait_for(lambda rs: len(rs) == 2)] == [event_id] * 2
    r = hooks.post(f"/v1/events/{event_id}/redeliver", json={"endpoint_id": second["id"]})
    assert r.json()["endpoint_ids"] == [second["id"]]
    (got,) = two.wait_for(lambda rs: len(rs) == 1)
    assert got.id == event_id and got.verified_by == [second["secret"]]
    missing = hooks.post(f"/v1/events/{event_id}/redeliver", json={"endpoint_id": "nope"})
    assert_envelope(missing, 404, "not_found")


def test_a_worker_killed_mid_delivery_leaves_it_to_the_next(
    hooks_server: Server, hooks: httpx.Client, receiver: Receiver
) -> None:
    """The first request is held; its worker is killed while it waits, so no outcome of it is
    ever written: the delivery's claim lapses and the worker started in its place sends it."""
    endpoint = register(hooks, receiver)
    arrived = threading.Event()

    def reply(got: Received) -> Reply:
        if not arrived.is_set():
            arrived.set()
            return Reply(delay=20)
        return Reply()

    receiver.reply = reply
    event_id = _test(hooks, endpoint["id"])
    assert arrived.wait(60)
    (worker,) = worker_pids(hooks_server)
    os.kill(worker, signal.SIGKILL)
    got = receiver.wait_for(lambda rs: len(rs) >= 2)
    assert [r.id for r in got[:2]] == [event_id, event_id]
    assert all(r.verified_by == [endpoint["secret"]] for r in got)
    log = wait_until(lambda: attempts(hooks, endpoint["id"]))
    assert [(a["attempt"], a["status_code"]) for a in log] == [(2, 200)]  # the first: unlogged


@pytest.fixture
def server_runtime(hooks_server: Server) -> Iterator[Any]:
    """A runtime of this process on the server's database and queue, as the API's is."""
    env = hooks_server.environ
    settings = Settings(
        data_dir=Path(env["ROUGHY_DATA_DIR"]),
        database_url=env["ROUGHY_DATABASE_URL"],
        redis_url=env.get("ROUGHY_REDIS_URL"),
        queue_name=env.get("ROUGHY_QUEUE_NAME", "roughy"),
    )
    rt = build_runtime(settings, register_jobs)
    yield rt
    rt.close()


def test_no_event_is_sent_for_a_change_that_rolled_back(
    hooks: httpx.Client, receiver: Receiver, server_runtime: Any
) -> None:
    endpoint = register(hooks, receiver, ["asset.ready"])
    account_id = hooks.get("/v1/users/me").json()["id"]
    gone, kept = "0190a000-0000-7000-8000-000000000001", "0190a000-0000-7000-8000-000000000002"
    with pytest.raises(RuntimeError), server_runtime.db.session() as session:
        events.record(session, account_id, "asset.ready", gone, asset_id=gone)
        session.flush()
        raise RuntimeError("the change fails after its event was written")
    with server_runtime.db.session() as session:
        events.record(session, account_id, "asset.ready", kept, asset_id=kept)
    (got,) = receiver.wait_for(lambda rs: len(rs) >= 1)
    assert got.json["data"]["entity_id"] == kept
    # Until a later event has come through the same endpoint, nothing else has.
    after = _test(hooks, endpoint["id"])
    got_all = receiver.wait_for(lambda rs: any(r.id == after for r in rs))
    assert [r.json["data"]["entity_id"] for r in got_all] == [kept, endpoint["id"]]
    listed = hooks.get("/v1/events", params={"type": "asset.ready"}).json()["items"]
    assert [e["entity_id"] for e in (i["data"] for i in listed)] == [kept]


@pytest.fixture
def patient_server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """Attempts wait up to 30 s for an answer here."""
    srv = tmp_server(tmp_path, database_url, ROUGHY_WEBHOOK_TIMEOUT_SECONDS="30")
    yield srv
    srv.stop()


def test_a_dead_endpoint_does_not_hold_up_another(
    patient_server: Server, receivers: Callable[..., Receiver]
) -> None:
    """Endpoint A holds every request it gets; a burst to it fills its slots, and B's event
    still arrives while all of A's requests are held (none has an outcome yet)."""
    dead, alive = receivers(), receivers()
    release = threading.Event()
    dead.reply = lambda _: (release.wait(60), Reply())[1]
    try:
        with account_on(patient_server) as c:
            a = register(c, dead, ["asset.ready"])
            b = register(c, alive, ["asset.ready"])
            for _ in range(6):
                _test(c, a["id"])
            dead.wait_for(lambda rs: len(rs) >= 3)
            event_id = _test(c, b["id"])
            (got,) = alive.wait_for(lambda rs: len(rs) >= 1)
            assert got.id == event_id
            assert len(dead.received) == 3  # A's slots, all still held
            assert attempts(c, a["id"]) == []
    finally:
        release.set()
