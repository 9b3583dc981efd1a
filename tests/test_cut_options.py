"""A cut's options (POST /v1/cuts ``options``, ours) through the public API: resolved over the
server's defaults and echoed, part of what makes a cut the same one, refused with the field
named when wrong, and honoured by the cut (pauses, padding, fillers, repeats) on a real
recording transcribed offline by the server's worker."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from roughy.db import Database
from tests.conftest import Server, start_server, start_worker
from tests.helpers import (
    account_client,
    assert_envelope,
    db_account_client,
    upload_bytes,
    wait_for_state,
)
from tests.spoken import Placed, speak
from tests.test_cuts import EDGE, SETTLED, kept, ready_asset, spans, wait_for_cut

DEFAULTS = {
    "max_pause_seconds": 0.4,
    "padding_before_seconds": 0.08,
    "padding_after_seconds": 0.16,
    "remove_fillers": True,
    "take": "last",
    "remove_repeats": True,
}
SNAP = 0.04  # a cut point moves to the quietest frame within this (CutOptions.snap_window)
REPEATED = "She sells sea shells by the sea shore."
MARKET = ["I went to the market yesterday", 1.5, "and bought some fresh bread."]


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Placed]]:
    """Unscripted speech: a sentence with an "um" inside, one with a long pause inside, and a
    sentence said twice."""
    out = tmp_path_factory.mktemp("options") / "talk.wav"
    placed = speak(
        [0.8, "The quick brown fox", 0.35, "um", 0.35, "jumps over the lazy dog.", 1.0,
         *MARKET, 1.0, REPEATED, 1.0, REPEATED, 0.8],
        out,
    )  # fmt: skip
    names = ["fox", "um", "jumps", "market", "bread", "said1", "said2"]
    return out, dict(zip(names, placed, strict=True))


@pytest.fixture(scope="module")
def on_talk(
    server: Server, db: Database, talk: tuple[Path, dict[str, Placed]]
) -> tuple[httpx.Client, str]:
    """One account's client and its ready asset of the talk."""
    client = db_account_client(server.base_url, db, "options")
    project = client.post("/v1/projects", json={"name": "Options"}).json()
    return client, ready_asset(client, project["id"], talk[0].read_bytes())


def order(client: httpx.Client, asset_id: str, **body: Any) -> httpx.Response:
    return client.post("/v1/cuts", json={"asset_id": asset_id, **body})


def completed(client: httpx.Client, asset_id: str, **body: Any) -> dict[str, Any]:
    r = order(client, asset_id, **body)
    assert r.status_code in (200, 201), r.text
    cut = wait_for_cut(client, r.json()["id"])
    assert cut["state"] == "completed", cut
    return cut


def test_options_are_echoed_resolved_and_post_back_to_the_same_cut(
    on_talk: tuple[httpx.Client, str],
) -> None:
    client, asset_id = on_talk
    r = order(client, asset_id, options={"max_pause_seconds": 1, "take": "best"})
    assert r.status_code == 201, r.text
    cut = r.json()
    resolved = {**DEFAULTS, "max_pause_seconds": 1.0, "take": "best"}
    assert cut["options"] == resolved
    for name in ("max_pause_seconds", "padding_before_seconds", "padding_after_seconds"):
        assert isinstance(cut["options"][name], float), name  # JSON numbers, not strings
    assert client.get(f"/v1/cuts/{cut['id']}").json()["options"] == resolved
    listed = client.get("/v1/cuts", params={"asset_id": asset_id}).json()["items"]
    assert [c["options"] for c in listed if c["id"] == cut["id"]] == [resolved]
    again = order(client, asset_id, options=cut["options"])
    assert (again.status_code, again.json()["id"]) == (200, cut["id"])


def test_the_same_resolved_options_are_the_same_cut(on_talk: tuple[httpx.Client, str]) -> None:
    client, asset_id = on_talk
    first = order(client, asset_id, script="The quick brown fox jumps over the lazy dog.")
    assert first.status_code == 201, first.text
    base = first.json()
    assert base["options"] == DEFAULTS
    for options in ({}, None, DEFAULTS, {"take": "last", "padding_after_seconds": 0.16}):
        again = order(client, asset_id, script=base["script"], options=options)
        assert (again.status_code, again.json()["id"]) == (200, base["id"]), options
    changes = {
        "max_pause_seconds": 0.5,
        "padding_before_seconds": 0.0,
        "padding_after_seconds": 0.2,
        "remove_fillers": False,
        "take": "best",
        "remove_repeats": False,
    }
    made = {base["id"]}
    for name, value in changes.items():
        other = order(client, asset_id, script=base["script"], options={name: value})
        assert other.status_code == 201, (name, other.text)
        assert other.json()["options"] == {**DEFAULTS, name: value}
        made.add(other.json()["id"])
        repeat = order(client, asset_id, script=base["script"], options={name: value})
        assert (repeat.status_code, repeat.json()["id"]) == (200, other.json()["id"])
    assert len(made) == 1 + len(changes)
    # Another script with the same options is another cut.
    elsewhere = order(client, asset_id, script="Another line.", options={"take": "best"})
    assert elsewhere.status_code == 201 and elsewhere.json()["id"] not in made


def test_the_same_new_cut_ordered_at_once_is_made_once(
    on_talk: tuple[httpx.Client, str],
) -> None:
    client, asset_id = on_talk
    body = {"asset_id": asset_id, "options": {"padding_after_seconds": 0.33}}
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: client.post("/v1/cuts", json=body), range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in answers}) == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_pause_seconds": 0}, "body.options.max_pause_seconds"),
        ({"max_pause_seconds": -0.5}, "body.options.max_pause_seconds"),
        ({"max_pause_seconds": 61}, "body.options.max_pause_seconds"),
        ({"max_pause_seconds": "0.3"}, "body.options.max_pause_seconds"),
        ({"padding_before_seconds": -0.1}, "body.options.padding_before_seconds"),
        ({"padding_after_seconds": 6}, "body.options.padding_after_seconds"),
        ({"take": "worst"}, "body.options.take"),
        ({"remove_fillers": "no"}, "body.options.remove_fillers"),
        ({"remove_fillers": 0}, "body.options.remove_fillers"),
        ({"remove_repeats": "yes"}, "body.options.remove_repeats"),
        ({"pause": 0.3}, "body.options.pause"),
        ("fast", "body.options"),
    ],
)
def test_a_bad_option_is_refused_naming_it(
    on_talk: tuple[httpx.Client, str], options: object, field: str
) -> None:
    client, asset_id = on_talk
    error = assert_envelope(order(client, asset_id, options=options), 422, "validation_error")
    assert [f["field"] for f in error["fields"]] == [field]
    assert all(f["message"] and "CutOptions" not in f["message"] for f in error["fields"])


def _pauses(
    segments: list[tuple[float, float]], at: dict[str, Placed], said: list[str]
) -> dict[str, float]:
    """How much of the silence between each two consecutive phrases ``said`` the cut keeps."""
    return {f"{a}-{b}": kept(segments, at[a].end, at[b].start) for a, b in pairwise(said)}


def test_max_pause_shortens_every_kept_pause_to_it(
    on_talk: tuple[httpx.Client, str], talk: tuple[Path, dict[str, Placed]]
) -> None:
    client, asset_id = on_talk
    at = talk[1]
    said = ["fox", "jumps", "market", "bread", "said2"]  # the um and the first take go
    default = _pauses(spans(completed(client, asset_id)["segments"]), at, said)
    short = _pauses(
        spans(completed(client, asset_id, options={"max_pause_seconds": 0.3})["segments"]),
        at,
        said,
    )
    for name, pause in default.items():
        assert pause <= 0.4 + 2 * SNAP, (name, default)
    for name, pause in short.items():
        assert pause <= 0.3 + 2 * SNAP, (name, short)
    assert sum(short.values()) < sum(default.values()), (short, default)
    # Up to max_pause_seconds, a pause stays whole.
    whole = completed(client, asset_id, options={"max_pause_seconds": 2})
    assert _pauses(spans(whole["segments"]), at, ["market", "bread"])["market-bread"] == (
        pytest.approx(at["bread"].start - at["market"].end, abs=0.01)
    )


def test_fillers_stay_when_not_removed(
    on_talk: tuple[httpx.Client, str], talk: tuple[Path, dict[str, Placed]]
) -> None:
    client, asset_id = on_talk
    um = talk[1]["um"]
    default = completed(client, asset_id)
    assert kept(spans(default["segments"]), um.start + EDGE, um.end - EDGE) == 0
    keeping = completed(client, asset_id, options={"remove_fillers": False})
    assert kept(spans(keeping["segments"]), um.start, um.end) == pytest.approx(
        um.end - um.start, abs=0.002
    )
    items = client.get(f"/v1/cuts/{keeping['id']}/decisions").json()["items"]
    around = [i for i in items if float(i["end"]) > um.start and float(i["start"]) < um.end]
    assert around and all(i["keep"] and i["reason"] is None for i in around), around


def test_repeats_stay_when_not_removed(
    on_talk: tuple[httpx.Client, str], talk: tuple[Path, dict[str, Placed]]
) -> None:
    client, asset_id = on_talk
    first, second = talk[1]["said1"], talk[1]["said2"]
    default = spans(completed(client, asset_id)["segments"])
    assert kept(default, first.start + EDGE, first.end - EDGE) == 0
    assert kept(default, second.start, second.end) == pytest.approx(
        second.end - second.start, abs=0.002
    )
    keeping = spans(completed(client, asset_id, options={"remove_repeats": False})["segments"])
    for part in (first, second):
        assert kept(keeping, part.start, part.end) == pytest.approx(
            part.end - part.start, abs=0.002
        )


def test_padding_moves_the_first_start_and_the_last_end(
    on_talk: tuple[httpx.Client, str],
) -> None:
    """The first segment starts the padding before the first kept word, the last ends the
    padding after the last kept word (each cut point within a snap of it)."""
    client, asset_id = on_talk
    for before, after, options in (
        (0.08, 0.16, {}),
        (0.5, 0.6, {"padding_before_seconds": 0.5, "padding_after_seconds": 0.6}),
        (0.0, 0.0, {"padding_before_seconds": 0, "padding_after_seconds": 0}),
    ):
        cut = completed(client, asset_id, options=options)
        segments = spans(cut["segments"])
        items = client.get(f"/v1/cuts/{cut['id']}/decisions").json()["items"]
        words = [i for i in items if i["kind"] == "word" and i["keep"]]
        first, last = float(words[0]["start"]), float(words[-1]["end"])
        assert segments[0][0] == pytest.approx(first - before, abs=SNAP + 0.01), options
        assert segments[-1][1] == pytest.approx(last + after, abs=SNAP + 0.01), options


def test_decisions_carry_a_note(on_talk: tuple[httpx.Client, str]) -> None:
    client, asset_id = on_talk
    cut = completed(client, asset_id)
    items = client.get(f"/v1/cuts/{cut['id']}/decisions").json()["items"]
    assert items and all(set(i) >= {"note"} for i in items)
    assert all(i["note"] is None or (isinstance(i["note"], str) and i["note"]) for i in items)


def test_the_settings_are_the_defaults_and_a_cut_keeps_its_own(
    database_url: str, tmp_path: Path
) -> None:
    """A cut ordered on a server whose settings shorten pauses to 0.3 s is decided with them by
    a worker whose own settings would keep 5 s: the options are the cut's, not the worker's."""
    recording = tmp_path / "market.wav"
    market, bread = speak([0.5, *MARKET, 0.5], recording)
    defaults = {
        "ROUGHY_CUT_MAX_PAUSE_SECONDS": "0.3",
        "ROUGHY_CUT_PADDING_BEFORE_SECONDS": "0.1",
        "ROUGHY_CUT_PADDING_AFTER_SECONDS": "0.2",
        "ROUGHY_CUT_REMOVE_FILLERS": "false",
        "ROUGHY_CUT_POLICY": "best",
        "ROUGHY_CUT_REMOVE_REPEATS": "false",
    }
    srv = start_server(tmp_path, database_url, ROUGHY_EMBEDDED_WORKER="false", **defaults)
    log = tmp_path / "worker.log"
    try:
        with account_client(srv.base_url, srv.data_dir, srv.database_url, "opt@x.io") as (c, _):
            project = c.post("/v1/projects", json={"name": "Defaults"}).json()["id"]
            asset_id = upload_bytes(c, project, recording.read_bytes())
            preparing = start_worker(srv, log)
            try:
                assert wait_for_state(c, asset_id, SETTLED)["state"] == "ready"
            finally:
                preparing.terminate()
                preparing.wait(15)
            r = c.post("/v1/cuts", json={"asset_id": asset_id})
            assert r.status_code == 201, r.text
            assert r.json()["options"] == {
                "max_pause_seconds": 0.3,
                "padding_before_seconds": 0.1,
                "padding_after_seconds": 0.2,
                "remove_fillers": False,
                "take": "best",
                "remove_repeats": False,
            }
            same = c.post("/v1/cuts", json={"asset_id": asset_id, "options": r.json()["options"]})
            assert (same.status_code, same.json()["id"]) == (200, r.json()["id"])
            builtin = c.post("/v1/cuts", json={"asset_id": asset_id, "options": DEFAULTS})
            assert builtin.status_code == 201 and builtin.json()["options"] == DEFAULTS

            deciding = start_worker(srv, log, ROUGHY_CUT_MAX_PAUSE_SECONDS="5")
            try:
                cut = wait_for_cut(c, r.json()["id"])
            finally:
                deciding.terminate()
                deciding.wait(15)
            assert cut["state"] == "completed", cut
            segments = spans(cut["segments"])
            assert kept(segments, market.end, bread.start) <= 0.3 + 2 * SNAP, segments
            for part in (market, bread):
                assert kept(segments, part.start, part.end) == pytest.approx(
                    part.end - part.start, abs=0.002
                )
    finally:
        srv.stop()
