"""A cut with no script through the public API (issue 18's done-when): a numbered list with a
restart and a sentence said twice keeps every item whole and drops the restart and the earlier
repeat, each with its reason; options that keep every pause under 0.3 s do the same."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest

from roughy.db import Database
from tests.conftest import Server
from tests.helpers import db_account_client
from tests.spoken import Placed, speak
from tests.test_cuts import EDGE, kept, ready_asset, spans, wait_for_cut

PARTS: list[str | float] = [
    0.5, "Step one, unpack the parcel.", 0.9,
    "Step two, charge the", 0.8,  # a restart
    "Step two, charge the battery for an hour.", 1.3,
    "Step three, switch it on.", 1.2,
    "Step three, switch it on.", 0.9,  # said again
    "Step four,", 1.0, "pair it with your phone.", 0.8,  # a long pause inside a step
]  # fmt: skip
NAMES = ["one", "restart", "two", "three-first", "three", "four", "four-rest"]
KEPT = ("one", "two", "three", "four", "four-rest")


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Placed]]:
    out = tmp_path_factory.mktemp("unscripted") / "steps.wav"
    return out, dict(zip(NAMES, speak(PARTS, out), strict=True))


@pytest.fixture(scope="module")
def cutting(
    server: Server, db: Database, steps: tuple[Path, dict[str, Placed]]
) -> tuple[httpx.Client, str]:
    client = db_account_client(server.base_url, db, "talk")
    project = client.post("/v1/projects", json={"name": "Talks"}).json()
    return client, ready_asset(client, project["id"], steps[0].read_bytes())


def cut_with(client: httpx.Client, asset_id: str, **body: Any) -> dict[str, Any]:
    r = client.post("/v1/cuts", json={"asset_id": asset_id, **body})
    assert r.status_code == 201, r.text
    cut = wait_for_cut(client, r.json()["id"])
    assert cut["state"] == "completed", cut
    return cut


def reasons(client: httpx.Client, cut: dict[str, Any], part: Placed) -> set[str | None]:
    """The reasons of the words decided inside ``part``."""
    r = client.get(f"/v1/cuts/{cut['id']}/decisions")
    assert r.status_code == 200, r.text
    words = [
        d
        for d in r.json()["items"]
        if d["kind"] == "word" and part.start - EDGE <= float(d["start"]) < part.end
    ]
    assert words, part
    return {d["reason"] for d in words}


@pytest.mark.parametrize("options", [None, {"max_pause_seconds": 0.3}])
def test_every_step_stays_whole_and_the_restart_and_earlier_repeat_go(
    cutting: tuple[httpx.Client, str],
    steps: tuple[Path, dict[str, Placed]],
    options: dict[str, float] | None,
) -> None:
    client, asset_id = cutting
    at = steps[1]
    cut = cut_with(client, asset_id, **({"options": options} if options else {}))
    segments = spans(cut["segments"])
    for name in KEPT:
        part = at[name]
        assert kept(segments, part.start, part.end) == pytest.approx(
            part.end - part.start, abs=0.002
        ), name
    for name, reason in (("restart", "false_start"), ("three-first", "retake")):
        part = at[name]
        assert kept(segments, part.start + EDGE, part.end - EDGE) == 0, name
        assert reasons(client, cut, part) == {reason}, name
    longest = options["max_pause_seconds"] if options else 0.4
    assert cut["options"]["max_pause_seconds"] == longest
    for before, after in itertools.pairwise(KEPT):
        pause = kept(segments, at[before].end, at[after].start)
        # 1e-6: spans are sums of floats (a pause of exactly 0.35 came out 0.35000000000000014)
        assert pause <= longest + 0.05 + 1e-6, (before, after, pause)
    inside = kept(segments, at["four"].end, at["four-rest"].start)
    assert inside == pytest.approx(longest, abs=0.05 + 1e-6)
