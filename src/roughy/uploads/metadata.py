"""The TUS ``Upload-Metadata`` header: ``key base64(value)`` pairs, comma-separated."""

from __future__ import annotations

import base64
import binascii

from roughy.errors import ApiError


def _bad(why: str) -> ApiError:
    return ApiError("bad_request", f"Upload-Metadata is malformed: {why}.")


def parse(header: str | None) -> dict[str, str]:
    """The pairs as text (UTF-8). Empty (as tuspy sends it) is no metadata; a key alone, or
    with an empty value, is an empty string; a repeated key or a value that is not base64 of
    UTF-8 text is refused."""
    pairs: dict[str, str] = {}
    if header is None or not header.strip():
        return pairs
    for item in header.split(","):
        key, _, value = item.strip().partition(" ")
        if not key or not key.isascii() or not key.isprintable():
            raise _bad("each pair is a key of ASCII letters, a space and a base64 value")
        if key in pairs:
            raise _bad(f"the key '{key}' is given twice")
        try:
            pairs[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _bad(f"the value of '{key}' is not base64 of UTF-8 text") from None
    return pairs
