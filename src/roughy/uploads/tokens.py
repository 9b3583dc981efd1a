"""Upload tokens: a bearer credential for one upload alone, safe to hand to a web page.

A token is the upload's id and an expiry, signed with the server's key (HMAC-SHA256), as
``ut_`` and base64url: nothing is stored, it cannot be revoked, and it expires (the setting
``upload_token_ttl_seconds``). It may HEAD, PATCH and DELETE its upload, and ``POST
/v1/uploads`` with it answers with that upload; every other route refuses it as it refuses an
unknown key. Deleting the asset ends it too: its upload is then not found.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid

PREFIX = "ut_"
_MAC_BYTES = 16
_DOMAIN = b"roughy upload token\x00"


def _mac(key: bytes, raw_id: bytes, expires: bytes) -> bytes:
    return hmac.new(key, _DOMAIN + raw_id + expires, hashlib.sha256).digest()[:_MAC_BYTES]


def mint(key: bytes, upload_id: str, ttl_seconds: int) -> str:
    raw_id = uuid.UUID(upload_id).bytes
    expires = int(time.time() + ttl_seconds).to_bytes(8, "big")
    payload = raw_id + expires + _mac(key, raw_id, expires)
    return PREFIX + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def is_token(text: str) -> bool:
    return text.startswith(PREFIX)


def upload_of(key: bytes, token: str) -> str | None:
    """The upload id of an untampered, unexpired token; None for anything else."""
    body = token.removeprefix(PREFIX)
    if len(body) > 64:
        return None
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(payload) != 16 + 8 + _MAC_BYTES:
        return None
    raw_id, expires, mac = payload[:16], payload[16:24], payload[24:]
    if not hmac.compare_digest(mac, _mac(key, raw_id, expires)):
        return None
    if int.from_bytes(expires, "big") < time.time():
        return None
    return str(uuid.UUID(bytes=raw_id))
