"""Signed download URLs: an HMAC over the asset id and an expiry, checked without a key."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(key: bytes, asset_id: str, expires: int) -> str:
    return hmac.new(key, f"{asset_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_query(key: bytes, asset_id: str, ttl_seconds: int) -> str:
    expires = int(time.time()) + ttl_seconds
    return f"expires={expires}&signature={sign(key, asset_id, expires)}"


def verify(key: bytes, asset_id: str, expires: str, signature: str) -> bool:
    """True for an untampered URL that has not expired."""
    if not expires.isdigit() or len(expires) > 12:
        return False
    if not hmac.compare_digest(sign(key, asset_id, int(expires)), signature):
        return False
    return int(expires) >= time.time()


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a single ``bytes=`` range; None for the whole file.

    Raises ValueError when the range cannot be satisfied.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return (
            None  # unknown units and multi-range: answer with the whole file (RFC 9110 allows it)
        )
    first, _, last = spec.strip().partition("-")
    if not first.isdigit() and not (first == "" and last.isdigit()):
        return None
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size
    start = int(first)
    end = int(last) + 1 if last.isdigit() else size
    if start >= size or (last and not last.isdigit()):
        raise ValueError("range starts past the end")
    if end <= start:
        raise ValueError("range ends before it starts")
    return start, min(end, size)
