"""The TUS checksum extension: ``Upload-Checksum: <algorithm> <base64 digest>``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import zlib
from dataclasses import dataclass
from typing import Protocol

from roughy.errors import ApiError

ALGORITHMS = ("sha1", "md5", "sha256", "crc32")


class Digest(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...
    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes | memoryview, /) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


@dataclass(frozen=True)
class ExpectedChecksum:
    algorithm: str
    digest: bytes

    def new(self) -> Digest:
        if self.algorithm == "crc32":
            return _Crc32()
        return hashlib.new(self.algorithm)

    def matches(self, computed: Digest) -> bool:
        return hmac.compare_digest(computed.digest(), self.digest)


def parse(header: str | None) -> ExpectedChecksum | None:
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in ALGORITHMS:
        raise ApiError(
            "bad_request",
            f"Upload-Checksum algorithm '{algorithm}' is not supported; use one of "
            + ", ".join(ALGORITHMS)
            + ".",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("bad_request", "Upload-Checksum must carry a base64 digest.") from None
    return ExpectedChecksum(algorithm, digest)
