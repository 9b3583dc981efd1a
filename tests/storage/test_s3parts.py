"""The part arithmetic of the S3 store: a table from 1 byte to 50 GiB on both part limits."""

from __future__ import annotations

import pytest

from roughy.storage.s3parts import (
    MIB,
    MIN_PART_BYTES,
    TooLarge,
    part_count,
    part_number,
    part_size,
)

GIB = 1024 * MIB

TABLE = [
    # length, max_parts, part size, parts
    (0, 10_000, 8 * MIB, 1),
    (1, 10_000, 8 * MIB, 1),
    (1, 1_000, 8 * MIB, 1),
    (8 * MIB - 1, 1_000, 8 * MIB, 1),
    (8 * MIB, 1_000, 8 * MIB, 1),
    (8 * MIB + 1, 1_000, 8 * MIB, 2),
    (1 * GIB, 10_000, 8 * MIB, 128),
    (1 * GIB, 1_000, 8 * MIB, 128),
    (2 * GIB, 1_000, 8 * MIB, 256),
    (8 * GIB, 1_000, 9 * MIB, 911),
    (10 * GIB, 10_000, 8 * MIB, 1280),
    (50 * GIB, 10_000, 8 * MIB, 6400),
    (50 * GIB, 1_000, 52 * MIB, 985),
    (80 * GIB, 10_000, 9 * MIB, 9103),
]


@pytest.mark.parametrize(("length", "max_parts", "size", "parts"), TABLE)
def test_part_size_table(length: int, max_parts: int, size: int, parts: int) -> None:
    assert part_size(length, max_parts) == size
    assert part_count(length, size) == parts
    assert parts <= max_parts


@pytest.mark.parametrize("max_parts", [1_000, 10_000])
@pytest.mark.parametrize(
    "length", [1, 5 * MIB, 100 * MIB + 7, 3 * GIB + 1, 17 * GIB - 3, 49 * GIB, 50 * GIB]
)
def test_every_part_but_the_last_is_large_and_the_parts_fit(length: int, max_parts: int) -> None:
    size = part_size(length, max_parts)
    count = part_count(length, size)
    assert size >= MIN_PART_BYTES and size % MIB == 0
    assert count <= max_parts
    assert (count - 1) * size < max(length, 1) <= count * size
    assert part_number(length - 1, size) == count if length else True


def test_a_length_no_part_size_fits_is_refused() -> None:
    with pytest.raises(TooLarge):
        part_size(6 * GIB * 1_000, 1_000)
