"""Dashboard sessions: an API key exchanged for a signed, HttpOnly cookie.

The cookie names the key (its id) and an expiry, signed with the server's key (HMAC-SHA256);
the key itself is never kept. Each request looks the key up again, so revoking it ends every
session made with it. A request that changes something (any method but GET, HEAD, OPTIONS)
must also carry ``X-CSRF-Token``: an HMAC of the cookie that only the pages of this origin
can read (``GET /dashboard/session`` hands it to them).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid

COOKIE = "roughy_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TTL_SECONDS = 12 * 3600
_MAC_BYTES = 16
_DOMAIN = b"roughy dashboard session\x00"
_CSRF_DOMAIN = b"roughy dashboard csrf\x00"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def mint(key: bytes, api_key_id: str, ttl_seconds: int = TTL_SECONDS) -> str:
    """A session cookie's value for the API key ``api_key_id``."""
    payload = uuid.UUID(api_key_id).bytes + int(time.time() + ttl_seconds).to_bytes(8, "big")
    mac = hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()[:_MAC_BYTES]
    return _b64(payload + mac)


def key_of(key: bytes, value: str) -> str | None:
    """The API key id of an untampered, unexpired session; None for anything else."""
    if len(value) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16 + 8 + _MAC_BYTES:
        return None
    payload, mac = raw[:24], raw[24:]
    expected = hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        return None
    if int.from_bytes(payload[16:], "big") < time.time():
        return None
    return str(uuid.UUID(bytes=payload[:16]))


def csrf_token(key: bytes, value: str) -> str:
    """The CSRF token that goes with the session cookie ``value``."""
    return _b64(hmac.new(key, _CSRF_DOMAIN + value.encode(), hashlib.sha256).digest()[:24])


def csrf_ok(key: bytes, value: str, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(csrf_token(key, value), header)
