"""Overrides on POST /v1/cuts (ours, issue 22): a reviewer keeps another take of a line or
keeps/drops a span, and gets a new cut, decided by the real worker on the real recording of
tests/test_cuts.py (take one, chatter, take two with an "um")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from roughy.db import Database
from tests.conftest import Server
from tests.helpers import assert_envelope, db_account_client
from tests.spoken import Placed
from tests.test_cuts import SCRIPT, kept, ready_asset, spans, takes, wait_for_cut

__all__ = ["takes"]  # the recording, a module fixture shared with tests/test_cuts.py
EDGE = 0.05


@pytest.fixture(scope="module")
def base(
    server: Server, db: Database, takes: tuple[Path, dict[str, Placed]]
) -> tuple[httpx.Client, str, dict[str, Any]]:
    """An account's ready asset of the takes recording and its plain cut, completed."""
    client = db_account_client(server.base_url, db, "overrides")
    project = client.post("/v1/projects", json={"name": "Overrides"}).json()
    asset_id = ready_asset(client, project["id"], takes[0].read_bytes())
    r = client.post("/v1/cuts", json={"asset_id": asset_id, "script": SCRIPT})
    assert r.status_code == 201, r.text
    cut = wait_for_cut(client, r.json()["id"])
    assert cut["state"] == "completed", cut
    return client, asset_id, cut


def decisions(client: httpx.Client, cut_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/v1/cuts/{cut_id}/decisions")
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def words_in(items: list[dict[str, Any]], part: Placed) -> list[dict[str, Any]]:
    return [
        i
        for i in items
        if i["kind"] == "word"
        and part.start <= (float(i["start"]) + float(i["end"])) / 2 <= part.end
    ]


def test_decisions_number_the_takes_of_a_line(
    base: tuple[httpx.Client, str, dict[str, Any]], takes: tuple[Path, dict[str, Placed]]
) -> None:
    client, _, cut = base
    items = decisions(client, cut["id"])
    at = takes[1]
    assert {i["take"] for i in words_in(items, at["take1"])} == {1}
    assert {i["take"] for i in words_in(items, at["take2a"]) + words_in(items, at["take2b"])} == {2}
    assert {i["take"] for i in words_in(items, at["chatter"])} == {None}
    assert cut["overrides"] == []


def test_choosing_the_first_take_makes_a_new_cut_marked_override(
    base: tuple[httpx.Client, str, dict[str, Any]], takes: tuple[Path, dict[str, Placed]]
) -> None:
    client, asset_id, plain = base
    body = {"asset_id": asset_id, "script": SCRIPT, "overrides": [{"line": 1, "take": 1}]}
    r = client.post("/v1/cuts", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["overrides"] == [{"line": 1, "take": 1}]
    cut = wait_for_cut(client, r.json()["id"])
    assert cut["state"] == "completed", cut
    assert cut["id"] != plain["id"]
    at = takes[1]
    segments = spans(cut["segments"])
    first = at["take1"]
    assert kept(segments, first.start, first.end) == pytest.approx(
        first.end - first.start, abs=0.002
    )
    for name in ("take2a", "take2b", "chatter"):
        part = at[name]
        assert kept(segments, part.start + EDGE, part.end - EDGE) == 0, name
    items = decisions(client, cut["id"])
    assert all(
        (i["keep"], i["reason"], i["line"]) == (True, "override", 1) for i in words_in(items, first)
    )
    second = words_in(items, at["take2a"]) + words_in(items, at["take2b"])
    assert second and all((i["keep"], i["reason"]) == (False, "override") for i in second)
    # The same choice again is the same cut; the plain cut is still there as it was.
    again = client.post("/v1/cuts", json=body)
    assert again.status_code == 200 and again.json()["id"] == cut["id"]
    plain_again = client.post("/v1/cuts", json={"asset_id": asset_id, "script": SCRIPT})
    assert plain_again.status_code == 200 and plain_again.json()["id"] == plain["id"]
    empty = client.post("/v1/cuts", json={"asset_id": asset_id, "script": SCRIPT, "overrides": []})
    assert empty.status_code == 200 and empty.json()["id"] == plain["id"]


def test_a_span_kept_and_a_span_dropped(
    base: tuple[httpx.Client, str, dict[str, Any]], takes: tuple[Path, dict[str, Placed]]
) -> None:
    client, asset_id, _ = base
    at = takes[1]
    chatter, tail = at["chatter"], at["take2b"]
    overrides = [
        {"start": f"{chatter.start:.3f}", "end": f"{chatter.end:.3f}", "keep": True},
        {"start": tail.start, "end": tail.end, "keep": False},
    ]
    r = client.post(
        "/v1/cuts", json={"asset_id": asset_id, "script": SCRIPT, "overrides": overrides}
    )
    assert r.status_code == 201, r.text
    cut = wait_for_cut(client, r.json()["id"])
    assert cut["state"] == "completed", cut
    segments = spans(cut["segments"])
    assert kept(segments, chatter.start + EDGE, chatter.end - EDGE) == pytest.approx(
        chatter.end - chatter.start - 2 * EDGE, abs=0.002
    )
    assert kept(segments, tail.start + EDGE, tail.end - EDGE) == 0
    items = decisions(client, cut["id"])
    assert all(i["keep"] and i["reason"] == "override" for i in words_in(items, chatter))
    assert all(not i["keep"] and i["reason"] == "override" for i in words_in(items, tail))


def test_a_take_the_recording_lacks_fails_the_cut_saying_so(
    base: tuple[httpx.Client, str, dict[str, Any]],
) -> None:
    client, asset_id, _ = base
    for choice, words in (
        ({"line": 1, "take": 3}, "has 2 takes"),
        ({"line": 5, "take": 1}, "no line 5"),
    ):
        r = client.post(
            "/v1/cuts", json={"asset_id": asset_id, "script": SCRIPT, "overrides": [choice]}
        )
        assert r.status_code == 201, r.text
        cut = wait_for_cut(client, r.json()["id"])
        assert cut["state"] == "failed" and cut["error_code"] == "invalid_override", cut
        assert words in cut["error_message"], cut


@pytest.mark.parametrize(
    ("overrides", "script"),
    [
        ([{"line": 1, "take": 1}], None),
        ([{"line": 0, "take": 1}], SCRIPT),
        ([{"line": 1, "take": 1, "keep": True}], SCRIPT),
        ([{"start": 2, "end": 1, "keep": True}], SCRIPT),
        ([{"start": 1, "end": 2, "keep": "yes"}], SCRIPT),
        ("all of them", SCRIPT),
    ],
)
def test_malformed_overrides_are_refused(
    base: tuple[httpx.Client, str, dict[str, Any]], overrides: object, script: str | None
) -> None:
    client, asset_id, _ = base
    r = client.post(
        "/v1/cuts", json={"asset_id": asset_id, "script": script, "overrides": overrides}
    )
    error = assert_envelope(r, 422, "validation_error")
    assert any(f["field"].startswith("body") for f in error["fields"]), error
