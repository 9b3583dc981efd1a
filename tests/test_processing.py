"""Every format of API.md §4.1 that ffmpeg can write (and AMR, written by hand) is uploaded
through TUS and processed: it ends ready with the right type, content type, extension and
duration, the type taken from the real streams where the first chunk could not tell."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from roughy.media.probe import retyped
from tests.helpers import create_asset, patch, wait_for_state
from tests.media.test_sniff import EXPECTED, FFMPEG_SAMPLES, samples

__all__ = ["samples"]  # the fixture, made once for this module

HAS_VIDEO = {name for name, (_, args) in FFMPEG_SAMPLES.items() if "testsrc" in " ".join(args)}
TEN_SECONDS = {"mp4-audio-moov-at-end"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_media_is_processed_to_ready(
    name: str, samples: dict[str, bytes], client: httpx.Client, project: dict[str, Any]
) -> None:
    data = samples[name]
    asset, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data).status_code == 204
    done = wait_for_state(client, asset["id"], ("ready", "pending_payment", "failed"))
    assert done["state"] == "ready", (done["error_code"], done["error_message"])

    sniffed = EXPECTED[name][0]
    is_video = name in HAS_VIDEO
    content_type, extension = retyped(sniffed.content_type, sniffed.extension, is_video)
    assert done["type"] == ("video" if is_video else "audio")
    assert (done["content_type"], done["extension"]) == (content_type, extension)
    assert done["size_bytes"] == len(data)
    seconds = float(done["duration_seconds"])
    if name.endswith("handmade") or "after-id3" in name:
        assert seconds > 0
    else:
        expected = 10.0 if name in TEN_SECONDS else 2.0
        assert abs(seconds - expected) <= 0.25, seconds


@pytest.mark.parametrize("name", ["mp4", "mp4-audio-moov-at-end"])
def test_a_truncated_mp4_fails_and_costs_nothing(
    name: str, samples: dict[str, bytes], client: httpx.Client, project: dict[str, Any]
) -> None:
    """Cut in half: with its index in front (faststart) or at the end, the bytes are not there."""
    data = samples[name][: len(samples[name]) // 2]
    asset, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data).status_code == 204
    done = wait_for_state(client, asset["id"], ("ready", "pending_payment", "failed"))
    assert (done["state"], done["error_code"]) == ("failed", "unreadable_media")
    assert done["error_message"] and done["duration_seconds"] is None
    assert client.get("/v1/credits/balance").json()["balance"] == 60


@pytest.mark.parametrize("name", ["mp4", "mkv", "webm"])
def test_a_valid_header_with_garbage_after_it_fails_and_costs_nothing(
    name: str, samples: dict[str, bytes], client: httpx.Client, project: dict[str, Any]
) -> None:
    """The first chunk passes detection; processing finds no media in what follows."""
    data = samples[name][:64] + random.Random(7).randbytes(256 * 1024)
    asset, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data).status_code == 204
    done = wait_for_state(client, asset["id"], ("ready", "pending_payment", "failed"))
    assert (done["state"], done["error_code"]) == ("failed", "unreadable_media")
    assert done["duration_seconds"] is None
    assert client.get("/v1/credits/balance").json()["balance"] == 60


def test_an_audio_only_mp4_is_audio(
    samples: dict[str, bytes], client: httpx.Client, project: dict[str, Any]
) -> None:
    """The first chunk says MP4 (video/mp4); the real streams say audio (audio/mp4, m4a)."""
    data = samples["mp4-audio-only"]
    asset, url = create_asset(client, project["id"], len(data))
    assert patch(client, url, 0, data).status_code == 204
    done = wait_for_state(client, asset["id"], ("ready", "pending_payment", "failed"))
    assert (done["state"], done["type"]) == ("ready", "audio")
    assert (done["content_type"], done["extension"]) == ("audio/mp4", "m4a")
    assert client.get("/v1/credits/balance").json()["balance"] == 59
