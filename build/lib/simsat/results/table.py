"""The end-of-run table (rich) for stderr: a run's facts and warnings at a glance."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from simsat.results.facts import run_title, run_verdict, run_warnings, summary_facts
from simsat.results.runfolder import load_summary

WIDTH = 100


def summary_renderable(summary: Mapping[str, Any]) -> Group:
    table = Table(
        title=f"simsat run: {run_title(summary)}",
        title_justify="left",
        show_header=False,
        title_style="bold",
        padding=(0, 1),
    )
    table.add_column("row", style="bold")
    table.add_column("value", overflow="fold")
    rows: dict[str, list[str]] = {}
    for fact in summary_facts(summary):
        rows.setdefault(fact.row, []).append(f"{fact.short} {fact.value}" if fact.short else fact.value)
    if not rows:
        rows["summary"] = ["summary.json holds none of the facts this table shows"]
    for row, values in rows.items():
        table.add_row(row, " · ".join(values))
    parts: list[Any] = [table]
    verdict = run_verdict(summary)
    if verdict:
        parts.append(Text(f"verdict: {verdict}", style="bold"))
    for warning in run_warnings(summary):
        parts.append(Text(f"warning: {warning}", style="bold yellow"))
    return Group(*parts)


def summary_table(summary: Mapping[str, Any], width: int = WIDTH) -> str:
    """The table and warnings as plain text (no colour codes)."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, highlight=False, color_system=None).print(
        summary_renderable(summary)
    )
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def print_summary(folder: Path, stream: TextIO) -> None:
    """Print the run folder's summary.json (with battery facts from battery.csv where it has none) as the
    end-of-run table on `stream`; nothing where the folder has no summary.json."""
    summary = load_summary(Path(folder))
    if not summary:
        return
    if stream.isatty():
        Console(file=stream).print(summary_renderable(summary))
    else:
        stream.write(summary_table(summary))
