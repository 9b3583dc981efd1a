"""Errors of the exports."""

from __future__ import annotations

from collections.abc import Iterable


class UnknownFormat(ValueError):
    """An export format we do not write."""

    def __init__(self, fmt: str, valid: Iterable[str]) -> None:
        self.format = fmt
        self.valid = tuple(valid)
        super().__init__(f"unknown format {fmt!r}; valid formats: {', '.join(self.valid)}")
