"""Tables for the command line: rich tables that never wrap when written to a file or pipe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table

# wide enough that no row of a listing wraps when output goes to a file or pipe
FILE_WIDTH = 400


def console_for(stream: TextIO) -> Console:
    """A console on `stream`: the terminal's width on a terminal, no wrapping (and no colour) elsewhere."""
    if stream.isatty():
        return Console(file=stream)
    return Console(file=stream, width=FILE_WIDTH, no_color=True, highlight=False, soft_wrap=False)


def make_table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> Table:
    table = Table(*headers, title=title, title_justify="left", header_style="bold")
    for row in rows:
        table.add_row(*row)
    return table


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], stream: TextIO) -> None:
    console_for(stream).print(make_table(headers, rows))
