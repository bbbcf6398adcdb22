"""simsat from Python (a notebook, a script): run a scenario, load run and sweep folders as typed
objects whose metrics, events and summaries are tables, and build the comparison page.

    from simsat.api import run, load_run, load_sweep, compare

    result = run("tiny", {"mission.duration_hours": 2}, seed=3)   # a Run; its folder is result.folder
    result.metrics.column("accuracy")                              # one metrics.csv column as a list
    sweep = load_sweep("sweeps/tiny-1a2b3c4d5e6f")
    sweep.configs.rows[0]["final_accuracy_mean"]                   # configs.csv, as numbers
    compare([sweep.folder, result.folder], "comparison")           # report.html, configs.csv, plots

Tables are plain `Table` objects (column names and rows of dicts, numbers as numbers): simsat needs no
pandas, and `Table.to_pandas()` gives a DataFrame where pandas is installed. Nothing here needs Hydra
or Ray knowledge: overrides are the command line's key=value pairs as a mapping (or keyword arguments
for top-level keys, `__` standing for a dot). Importing this module loads no heavy library.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simsat.errors import ConfigError
from simsat.results.runfolder import lookup, read_config, read_events, read_summary, with_battery_facts
from simsat.sweep.fold import RunEntry, fold
from simsat.sweep.gather import is_run_folder, is_sweep_folder, sweep_entries

__all__ = ["Run", "Sweep", "Table", "compare", "load_run", "load_sweep", "run"]
SHOWN_ROWS = 20  # rows a notebook shows of a table


def _value(text: str) -> Any:
    """A CSV cell as a number where it is one ('' as None), else the text."""
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number == int(number) and "." not in text and "e" not in text.lower():
        return int(number)
    return number


@dataclass(frozen=True)
class Table:
    """Rows of named columns (a CSV or JSON-lines file as read), numbers as numbers, None where empty."""

    columns: list[str]
    rows: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """Every row's value of one column (None where a row lacks it)."""
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; columns: {', '.join(self.columns)}")
        return [row.get(name) for row in self.rows]

    def where(self, **equal: Any) -> Table:
        """The rows whose columns equal the given values."""
        return Table(self.columns, [r for r in self.rows if all(r.get(k) == v for k, v in equal.items())])

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the table (pandas is not a simsat dependency: install it to use this)."""
        try:
            import pandas
        except ImportError as exc:
            raise ImportError("Table.to_pandas needs pandas: pip install pandas") from exc
        return pandas.DataFrame(self.rows, columns=self.columns)

    @classmethod
    def from_csv(cls, path: Path) -> Table:
        if not Path(path).is_file():
            return cls([], [])
        with Path(path).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = [{k: _value(v or "") for k, v in row.items()} for row in reader]
            return cls(list(reader.fieldnames or []), rows)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Table:
        rows = [dict(r) for r in records]
        return cls(list(dict.fromkeys(k for r in rows for k in r)), rows)

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in self.columns) + "</tr>"
            for r in self.rows[:SHOWN_ROWS]
        )
        more = f"<p>{len(self.rows) - SHOWN_ROWS} more rows</p>" if len(self.rows) > SHOWN_ROWS else ""
        return f"<table><tr>{head}</tr>{body}</table>{more}"

    def __repr__(self) -> str:
        return f"Table({len(self.rows)} rows: {', '.join(self.columns)})"


def _flat(data: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            rows += _flat(value, f"{prefix}{key}.")
        else:
            rows.append({"key": f"{prefix}{key}", "value": value})
    return rows


@dataclass(frozen=True)
class Run:
    """A run folder: summary.json, config.yaml, metrics.csv, events.jsonl and battery.csv, read."""

    folder: Path
    summary: dict[str, Any]
    config: dict[str, Any]
    metrics: Table  # one row per evaluation (metrics.csv)
    events: Table  # one row per event (events.jsonl), the union of their fields as columns
    battery: Table  # time_s, satellite, soc

    @property
    def summary_table(self) -> Table:
        """summary.json as rows of dotted key and value (lists as they are)."""
        return Table(["key", "value"], _flat(self.summary))

    @property
    def final_accuracy(self) -> float | None:
        value = lookup(self.summary, "accuracy.final")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def report(self) -> Path:
        return self.folder / "report.html"

    def fact(self, dotted: str, default: Any = None) -> Any:
        """One value of summary.json by its dotted key ("bytes.down_total")."""
        return lookup(self.summary, dotted, default)


@dataclass(frozen=True)
class Sweep:
    """A sweep folder: its swept keys, runs.csv, configs.csv (seeds folded) and its runs."""

    folder: Path
    keys: list[str]  # the keys that tell configurations apart (seed excluded)
    runs: Table  # runs.csv
    configs: Table  # one row per configuration: n, mean, std, ci95 of each result (configs.csv's columns)
    entries: list[RunEntry] = field(repr=False, default_factory=list)

    def run(self, number: int) -> Run:
        """Run `number` of the grid (runs.csv's `run` column), loaded; ConfigError if it did not finish."""
        name = f"run {number}"
        entry = next((e for e in self.entries if e.name == name), None)
        if entry is None or entry.folder is None:
            state = "not in this sweep" if entry is None else entry.status
            raise ConfigError(f"{self.folder}: {name} has no run folder ({state})")
        return load_run(entry.folder)

    @property
    def report(self) -> Path:
        return self.folder / "report.html"


def load_run(path: str | Path) -> Run:
    """A run folder as a Run; ConfigError where the folder has no summary.json."""
    folder = Path(path).expanduser()
    if not is_run_folder(folder):
        raise ConfigError(f"{path}: not a run folder (no summary.json)")
    battery = Table.from_csv(folder / "battery.csv")
    summary = read_summary(folder / "summary.json")
    if "battery" not in summary:
        from simsat.results.runfolder import read_battery

        summary = with_battery_facts(summary, read_battery(folder / "battery.csv"))
    return Run(
        folder=folder.resolve(),
        summary=summary,
        config=read_config(folder / "config.yaml")[0],
        metrics=Table.from_csv(folder / "metrics.csv"),
        events=Table.from_records(read_events(folder / "events.jsonl")),
        battery=battery,
    )


def load_sweep(path: str | Path) -> Sweep:
    """A sweep folder as a Sweep (configurations folded from its runs as they are now)."""
    folder = Path(path).expanduser()
    if not is_sweep_folder(folder):
        raise ConfigError(f"{path}: not a sweep folder (no sweep.json and runs.csv)")
    from simsat.sweep.fold import configs_csv

    keys, entries = sweep_entries(folder)
    configs_text = configs_csv(fold(entries), keys)
    reader = csv.DictReader(configs_text.splitlines())
    configs = Table(list(reader.fieldnames or []), [{k: _value(v or "") for k, v in r.items()} for r in reader])
    return Sweep(folder.resolve(), keys, Table.from_csv(folder / "runs.csv"), configs, entries)


def _override(key: str, value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        text = "[" + ",".join(str(v) for v in value) + "]"
    else:
        text = str(value)
    return f"{key}={text}"


def overrides_list(overrides: Mapping[str, Any] | None, keywords: Mapping[str, Any]) -> list[str]:
    """key=value items from a mapping of dotted keys and keyword arguments (`__` for a dot)."""
    items = dict(overrides or {})
    items.update({k.replace("__", "."): v for k, v in keywords.items()})
    return [_override(k, v) for k, v in items.items()]


def run(scenario: str = "quickstart", overrides: Mapping[str, Any] | None = None, **keywords: Any) -> Run:
    """Run a scenario (a name or a YAML path) with overrides, as `simsat run` does; the finished run.

    `overrides` maps dotted keys to values ({"mission.duration_hours": 2, "link": "xband"}); keyword
    arguments set top-level keys or use `__` for dots (seed=3, mission__duration_hours=2). Bad input
    raises ConfigError (one line naming the key) before anything runs."""
    from simsat.config.inputs import check_scenario_inputs
    from simsat.config.load import load_config

    config = load_config(scenario, overrides_list(overrides, keywords))
    check_scenario_inputs(config)
    from simsat.runner import run_scenario

    return load_run(run_scenario(config))


def compare(paths: Sequence[str | Path], out: str | Path) -> Path:
    """The comparison page (report.html, configs.csv, plots) of run and sweep folders, written into `out`;
    ConfigError, with nothing written, where a folder is neither a run nor a sweep folder."""
    from simsat.sweep.gather import gather
    from simsat.sweep.page import write_compare_page

    folder = Path(out).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"compare: {out} is a file, not a folder")
    return write_compare_page(gather([Path(p) for p in paths]), folder)
