"""roughy.client against a live server: typed objects, uploads that resume after a dropped
connection and across clients, typed errors from the envelope, waits, downloads; sync and
async."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import httpx
import pytest

from roughy.client import (
    AsyncClient,
    Client,
    Conflict,
    NotFound,
    NotReady,
    RenderOutputIn,
    SpanOverride,
    TransportFailed,
    Unauthenticated,
    UploadStore,
    ValidationFailed,
)
from roughy.client.errors import ApiError
from tests.conftest import Server
from tests.proxy import Fault, FaultProxy


@pytest.fixture
def store(tmp_path: Path) -> UploadStore:
    return UploadStore(tmp_path / "state")


@pytest.fixture
def roughy(server: Server, api_key: str, store: UploadStore) -> Client:
    with Client(server.base_url, api_key, store=store) as client:
        yield client


def test_upload_wait_render_download_with_typed_objects(
    roughy: Client, media: dict[str, Path], tmp_path: Path
) -> None:
    project = roughy.create_project("Client")
    seen: list[tuple[int, int]] = []
    asset = roughy.upload(media["mp4"], project.id, progress=lambda d, t: seen.append((d, t)))
    size = media["mp4"].stat().st_size
    assert asset.filename == "talk.mp4" and asset.project_id == project.id
    assert asset.state in ("processing", "ready")
    assert seen[-1] == (size, size) and all(t == size for _, t in seen)
    ready = roughy.wait_for_asset(asset.id, max_wait=120)
    assert ready.state == "ready", (ready.error_code, ready.error_message)
    assert ready.duration_seconds == "6.000" and ready.cuttable
    back = roughy.download_asset(asset.id, tmp_path / "back.mp4")
    assert back.read_bytes() == media["mp4"].read_bytes()
    assert [a.id for a in roughy.list_assets(project_id=project.id).items] == [asset.id]

    made = roughy.create_render(asset.id, RenderOutputIn(format="mp3"))
    polled: list[float] = []
    done = roughy.wait_for_render(
        made.id, max_wait=120, on_update=lambda r: polled.append(r.progress)
    )
    assert done.state == "completed" and done.progress == 1.0 and polled[-1] == 1.0
    saved = roughy.download_render(done.id, tmp_path / "out.mp3")
    assert saved.stat().st_size == done.size_bytes
    assert not (tmp_path / "out.mp3.part").exists()
    assert not json.loads(roughy.store.file.read_text())  # a finished upload is forgotten


def test_overrides_make_another_cut_and_echo_back(roughy: Client, media: dict[str, Path]) -> None:
    project = roughy.create_project("Overrides")
    asset = roughy.wait_for_asset(roughy.upload(media["mp3"], project.id).id, max_wait=120)
    plain = roughy.create_cut(asset.id)
    keep_all = [SpanOverride(start=0.0, end=6.0, keep=True)]
    chosen = roughy.create_cut(asset.id, overrides=keep_all)
    assert chosen.id != plain.id and chosen.overrides == keep_all
    assert roughy.create_cut(asset.id, overrides=keep_all).id == chosen.id  # idempotent
    assert roughy.create_cut(asset.id, overrides=[]).id == plain.id


class PatchThroughProxy(httpx.BaseTransport):
    """A real transport that sends the second PATCH through a proxy that breaks it (the proxy
    serves one connection), everything else straight to the server."""

    def __init__(self, proxy_port: int) -> None:
        self.proxy_port = proxy_port
        self.patches = 0
        self.sent_through = False
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            self.patches += 1
        if self.patches == 2 and not self.sent_through:
            self.sent_through = True
            request.url = request.url.copy_with(port=self.proxy_port)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


CHUNK = 65_536


@pytest.mark.parametrize("fault", ["close", "reset"])
def test_an_upload_cut_by_the_network_goes_on_from_the_servers_offset(
    server: Server, api_key: str, store: UploadStore, media: dict[str, Path], fault: Fault
) -> None:
    """The second PATCH's connection breaks after 40 kB: the client asks HEAD and sends only
    the rest, on the same upload."""
    host, port = server.base_url.removeprefix("http://").split(":")
    proxy = FaultProxy((host, int(port)), fault, after_bytes=40_000)
    size = media["mp4"].stat().st_size
    transport = PatchThroughProxy(proxy.port)
    try:
        with Client(server.base_url, api_key, store=store, transport=transport, timeout=20) as c:
            project = c.create_project("Dropped")
            offsets: list[int] = []
            asset = c.upload(
                media["mp4"], project.id, chunk_size=CHUNK, progress=lambda d, t: offsets.append(d)
            )
            assert proxy.broken.is_set() and transport.sent_through
            # After the break it went back to what the server kept (the first chunk at least,
            # what passed the proxy at most), then on.
            backs = [b for a, b in itertools.pairwise(offsets) if b < a]
            assert backs and all(CHUNK <= b <= CHUNK + proxy.passed for b in backs), offsets
            assert offsets[-1] == size
            assert c.wait_for_asset(asset.id, max_wait=120).state == "ready"
            assert c.list_assets(project_id=project.id).total == 1
    finally:
        proxy.close()
    back = c.store  # the finished upload is forgotten
    assert not json.loads(back.file.read_text())


def test_a_second_client_resumes_an_upload_the_first_left(
    server: Server, api_key: str, store: UploadStore, media: dict[str, Path]
) -> None:
    """The first process stops in its second chunk; another, with the same store, finds the
    upload by the file's fingerprint and sends the rest (one asset, the same id)."""
    size = media["mp4"].stat().st_size

    class Stop(Exception):
        pass

    def stop_after_first_chunk(done: int, total: int) -> None:
        if done > CHUNK:
            raise Stop

    with Client(server.base_url, api_key, store=store) as first:
        project = first.create_project("Resumed")
        with pytest.raises(Stop):
            first.upload(
                media["mp4"], project.id, chunk_size=CHUNK, progress=stop_after_first_chunk
            )
    (entry,) = json.loads(store.file.read_text()).values()
    with Client(server.base_url, api_key, store=UploadStore(store.directory)) as second:
        starts: list[int] = []
        asset = second.upload(media["mp4"], project.id, progress=lambda d, t: starts.append(d))
        assert CHUNK <= starts[0] < size and starts[-1] == size
        assert asset.id == entry["asset_id"]
        assert second.list_assets(project_id=project.id).total == 1
        assert second.wait_for_asset(asset.id, max_wait=120).size_bytes == size


def test_errors_are_the_envelopes_as_typed_exceptions(
    roughy: Client, server: Server, media: dict[str, Path], store: UploadStore
) -> None:
    with pytest.raises(NotFound) as missing:
        roughy.get_asset("01900000-0000-7000-8000-000000000000")
    assert missing.value.status == 404 and missing.value.code == "not_found"
    assert missing.value.message and missing.value.request_id

    with pytest.raises(ValidationFailed) as invalid:
        roughy.create_project("")
    assert invalid.value.fields and invalid.value.fields[0].field == "body.name"

    project = roughy.create_project("Errors")
    with pytest.raises(Conflict) as refused:  # not media: refused on the first chunk
        roughy.upload(media["pdf"], project.id)
    assert "media" in refused.value.message.lower() or "format" in refused.value.message.lower()
    assert roughy.list_assets(project_id=project.id).total == 0
    assert not json.loads(store.file.read_text())

    with Client(server.base_url, "sk_not_a_key") as stranger, pytest.raises(Unauthenticated):
        stranger.me()
    with Client("http://127.0.0.1:9", "sk_x") as nowhere, pytest.raises(TransportFailed):
        nowhere.me()


def test_a_cut_of_an_asset_still_uploading_waits_for_it_or_says_not_ready(
    roughy: Client, media: dict[str, Path]
) -> None:
    project = roughy.create_project("Early")
    asset = roughy.upload(media["mp3"], project.id)
    roughy.wait_for_asset(asset.id, max_wait=120)
    pending = roughy._http.post(  # a fresh asset with no bytes yet: pending_upload
        "/v1/assets", json={"project_id": project.id, "size_bytes": 1000}
    ).json()
    with pytest.raises(NotReady) as early:
        roughy.create_cut(pending["id"], "hello")
    assert isinstance(early.value, ApiError) and early.value.retry_after is not None


def test_the_async_client_does_the_same(
    server: Server, api_key: str, store: UploadStore, media: dict[str, Path], tmp_path: Path
) -> None:
    async def main() -> None:
        async with AsyncClient(server.base_url, api_key, store=store) as client:
            project = await client.project_named("Async")
            assert (await client.project_named("Async")).id == project.id
            asset = await client.upload(media["mp3"], project.id, chunk_size=20_000)
            ready = await client.wait_for_asset(asset.id, max_wait=120)
            assert ready.state == "ready" and ready.type == "audio"
            back = await client.download_asset(asset.id, tmp_path / "back.mp3")
            assert back.read_bytes() == media["mp3"].read_bytes()
            with pytest.raises(NotFound):
                await client.get_cut("nope")

    asyncio.run(main())
