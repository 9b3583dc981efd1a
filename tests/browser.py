"""A real browser for the tests: Debian's Chromium (``/usr/bin/chromium``, installed by
``scripts/install-test-deps.sh``), driven headless by Playwright. Playwright's own browser
downloads are never used.

The fixtures are registered once, by tests/conftest.py (a fixture imported into two modules
would be two fixtures, and two Playwrights at once). ``browser`` lives for one test module:
Playwright's sync API runs an asyncio loop in this thread while it is open, and a later test's
``asyncio.run`` would fail beside it. ``static_site`` serves a folder on a loopback port of its
own: a page there is on another origin than the API.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright import sync_api as playwright_sync

CHROMIUM = os.environ.get("ROUGHY_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
UPPY = Path(__file__).resolve().parent.parent / "src/roughy/web/static/vendor/uppy"


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_sync.Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-test-deps.sh (Debian's chromium)")
    with playwright_sync.sync_playwright() as p:
        # --no-sandbox: the tests run as root in CI, where Chromium's sandbox cannot start.
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def page(
    browser: playwright_sync.Browser, request: pytest.FixtureRequest
) -> Iterator[playwright_sync.Page]:
    """A page in a fresh context; its console and page errors go to the test's report, and a
    screenshot of where it stood is saved under ``test-artifacts/`` when the test ends."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    name = request.node.name.replace("/", "_")[:120]
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        if messages:
            print("\n".join(messages))
        context.close()


@dataclass
class StaticSite:
    root: Path
    base_url: str


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[StaticSite]:
    """An HTTP server of its own for the files put in ``root`` (with Uppy's bundle under
    ``root/uppy/``): its pages are on another origin than the API."""
    root = tmp_path / "site"
    shutil.copytree(UPPY, root / "uppy")
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield StaticSite(root, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
