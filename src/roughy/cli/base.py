"""The ``roughy`` command's root, shared by the operator's and the user's commands."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="Roughy: a self-hostable media API for rough cuts.", no_args_is_help=True)
console = Console(stderr=True)
