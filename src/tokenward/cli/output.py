"""How commands print: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence

import typer
from pydantic import BaseModel


def when(moment: dt.datetime | None, *, missing: str = "-") -> str:
    """A UTC time to the minute, as people read it in a table."""
    if moment is None:
        return missing

    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") + "Z"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns padded to their widest cell, under an upper-case header line."""
    lines = [[header.upper() for header in headers], *map(list, rows)]
    widths = [
        max(len(line[column]) for line in lines) for column in range(len(headers))
    ]

    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in lines
    )


def print_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    typer.echo(table(headers, rows))


def print_json(model: BaseModel) -> None:
    """The model as indented JSON on stdout, the same shape the REST API answers."""
    typer.echo(model.model_dump_json(indent=2))


def print_secret_block(title: str, secret: str) -> None:
    """Show a secret once, set apart so it is easy to copy, and flush at once.

    Flushing matters when stdout is a pipe: a process that goes on to serve would
    otherwise keep the secret in its buffer, unseen by whoever reads the pipe.
    """
    typer.echo(f"{title}\n\n    {secret}\n")
    sys.stdout.flush()
