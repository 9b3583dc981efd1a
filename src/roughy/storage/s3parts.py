"""How a TUS upload of a declared length is cut into the parts of one S3 multipart upload.

Every part has the same size but the last (as tusd learned: parts of mixed sizes can use up the
server's part budget before the end, tusd#1247, and some servers want them equal, tusd#1278).
The size is a pure function of the length and the server's part limit.
"""

from __future__ import annotations

MIB = 1024 * 1024
MIN_PART_BYTES = 5 * MIB  # S3's least size of a part that is not the last
FLOOR_PART_BYTES = 8 * MIB  # what a small upload's parts hold (boto3's own chunk size)
MAX_PART_BYTES = 5 * 1024 * MIB  # S3's largest part


class TooLarge(ValueError):
    """No part size fits the length within the server's limits."""


def part_size(length: int, max_parts: int) -> int:
    """The size of every part but the last: at least 8 MiB, a whole number of MiB, few
    enough parts for ``max_parts``."""
    if length < 0 or max_parts < 1:
        raise ValueError("length must be >= 0 and max_parts >= 1")
    needed = -(-length // max_parts)
    size = max(FLOOR_PART_BYTES, -(-needed // MIB) * MIB)
    if size > MAX_PART_BYTES:
        raise TooLarge(f"{length} bytes need parts over 5 GiB with {max_parts} parts")
    return size


def part_count(length: int, size: int) -> int:
    """How many parts an upload of ``length`` has (one, empty, for an empty upload)."""
    return max(1, -(-length // size))


def part_number(offset: int, size: int) -> int:
    """The 1-based number of the part holding byte ``offset``."""
    return offset // size + 1
