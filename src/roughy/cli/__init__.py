"""The ``roughy`` command: the operator's (serve, worker, accounts, keys, credits) and the
user's (upload, cut, render, download, listings) commands, on one root."""

from __future__ import annotations

from roughy.cli import operator as operator
from roughy.cli import user as user
from roughy.cli.base import app

__all__ = ["app", "main"]


def main() -> None:
    app()
