"""Where the client finds its server and key: arguments, else ``ROUGHY_API_URL`` and
``ROUGHY_API_KEY``, else the local server (``http://127.0.0.1:8000``) and the key ``roughy
serve`` wrote for its local account (``$ROUGHY_DATA_DIR/local-api-key``, ``./.roughy`` by
default)."""

from __future__ import annotations

import os
from pathlib import Path

from roughy.client.errors import RoughyError

LOCAL_URL = "http://127.0.0.1:8000"
LOCAL_KEY_FILE = "local-api-key"


class NoApiKey(RoughyError):
    """No key was given, and no local server's key file was found."""


def api_url(given: str | None = None) -> str:
    return (given or os.environ.get("ROUGHY_API_URL") or LOCAL_URL).rstrip("/")


def api_key(given: str | None = None) -> str:
    if given:
        return given
    if env := os.environ.get("ROUGHY_API_KEY"):
        return env.strip()
    key_file = Path(os.environ.get("ROUGHY_DATA_DIR") or ".roughy") / LOCAL_KEY_FILE
    try:
        key = key_file.read_text().strip()
    except OSError:
        key = ""
    if not key:
        raise NoApiKey(
            f"No API key: set ROUGHY_API_KEY (and ROUGHY_API_URL for a remote server), or run "
            f"this where `roughy serve` wrote {key_file}."
        )
    return key
