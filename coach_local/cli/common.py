"""What every `coach` command shares: where it prints, its exit codes, how it ends on bad input, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console

# Colours only on a terminal; without one (CI, pipes) a wide plain table rather than 80 cramped columns.
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def fail_input(message: str) -> NoReturn:
    """Bad input ends the command with exit 2 and says what and where (never a traceback)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def print_json(value: object, indent: int | None = None) -> None:
    """JSON on stdout for scripts (progress and errors go to stderr)."""
    print(json.dumps(value, indent=indent))
