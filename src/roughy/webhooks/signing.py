"""Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``),
made with the ``standardwebhooks`` library, and the same values as ``svix-*`` headers (Svix's
verifier prefers those when both are there, so they must be identical).

Each attempt is signed afresh with its own time: receivers refuse a timestamp more than five
minutes old, so a signature made once would fail every retry after that.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    """``whsec_`` and the base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def body(event_type: str, data: dict[str, Any]) -> bytes:
    """The request body: exactly ``{"type", "data"}`` (the time travels in a header)."""
    return json.dumps({"type": event_type, "data": data}, separators=(",", ":")).encode()


def headers(event_id: str, payload: bytes, keys: Iterable[str], at: datetime) -> dict[str, str]:
    """The signature headers of one attempt: one ``v1,`` signature per secret, space-separated
    (two during a rotation's overlap)."""
    signature = " ".join(Webhook(key).sign(event_id, at, payload) for key in keys)
    timestamp = str(int(at.timestamp()))
    return {
        "webhook-id": event_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
        "svix-id": event_id,
        "svix-timestamp": timestamp,
        "svix-signature": signature,
    }
