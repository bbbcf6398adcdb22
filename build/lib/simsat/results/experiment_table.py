"""The end-of-run table of `simsat distill`, read from the experiment folder's results.csv."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table

COLUMNS = (
    ("role", "role"),
    ("model", "model"),
    ("rule", "rule"),
    ("seed", "seed"),
    ("best_epoch", "best epoch"),
    ("test_accuracy", "test acc."),
    ("test_f1", "macro F1"),
    ("validation_accuracy", "val. acc."),
    ("train_seconds", "train s"),
)
PERCENT = {"test_accuracy", "test_f1", "validation_accuracy"}


def _cell(key: str, value: str) -> str:
    if not value:
        return "-"
    if key in PERCENT:
        return f"{100 * float(value):.2f} %"
    if key == "train_seconds":
        return f"{float(value):.0f}"
    return value


def experiment_table(folder: Path) -> Table | None:
    """Teachers and student runs, one row each (None when the folder has no results.csv)."""
    path = Path(folder) / "results.csv"
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    table = Table(title=f"simsat distill: {Path(folder).name}", title_justify="left", title_style="bold")
    for _, label in COLUMNS:
        table.add_column(label, justify="right" if label not in ("role", "model", "rule") else "left")
    best = max(
        (r for r in rows if r.get("role") == "student"),
        key=lambda r: float(r.get("validation_accuracy") or 0),
        default=None,
    )
    for row in rows:
        cells = [_cell(key, row.get(key, "")) for key, _ in COLUMNS]
        if row is best:
            cells[0] += " *"
        table.add_row(*cells, style="bold" if row is best else None)
    if best is not None:
        table.caption = f"*: chosen on validation ({best['model']} {best['rule']} seed {best['seed']})"
    return table


def print_experiment_table(folder: Path, stream: TextIO, width: int = 110) -> None:
    table = experiment_table(folder)
    if table is None:
        return
    if stream.isatty():
        Console(file=stream).print(table)
        return
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, highlight=False, color_system=None).print(table)
    stream.write("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n")
