"""Seeds folded: the runs of a sweep (or of any folders compared) grouped by configuration, with the
mean, standard deviation and 95 % confidence interval of each result, and configs.csv.

A configuration is one set of values of the keys that tell runs apart, seed excluded; its runs are
its seeds. Statistics use the runs that have the value: a seed that never reached 0.80 has no time to
0.80, and `n` says how many had one. The standard deviation is the sample one (n - 1); the 95 %
confidence interval of the mean is mean ± t(0.975, n - 1) · sd / √n (Student's t), none below 2 runs;
the page and the plots show it clipped to what a result can be (`bounds`), configs.csv its half-width.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simsat.results.atomic import write_text
from simsat.sweep.records import DONE, FAILED, THRESHOLDS

SEED_KEY = "seed"
# the results folded per configuration: (column, what it is)
METRICS: tuple[tuple[str, str], ...] = (
    ("final_accuracy", "final accuracy"),
    ("best_accuracy", "best accuracy"),
    *((f"time_to_{t}_h", f"hours to {t}") for t in THRESHOLDS),
    ("bytes_up", "bytes up"),
    ("bytes_down", "bytes down"),
    ("energy_wh", "onboard energy (Wh)"),
    ("wall_s", "wall time (s)"),
)
# Student's t at 0.975 for 1..30 degrees of freedom
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z975 = 1.959964


def t975(df: int) -> float:
    """Student's t quantile at 0.975 (table to 30 degrees of freedom, Cornish-Fisher expansion beyond)."""
    if df < 1:
        raise ValueError("t975 needs at least one degree of freedom")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Stat:
    """One result over a configuration's runs that have it."""

    n: int
    mean: float | None
    std: float | None  # sample standard deviation; None below 2 values
    ci95: float | None  # half-width of the 95 % confidence interval of the mean; None below 2 values

    @property
    def low(self) -> float | None:
        return None if self.mean is None or self.ci95 is None else self.mean - self.ci95

    @property
    def high(self) -> float | None:
        return None if self.mean is None or self.ci95 is None else self.mean + self.ci95


def bounds(column: str, s: Stat) -> tuple[float, float] | None:
    """The 95 % interval of a result, clipped to what it can be (accuracy 0..1, the others >= 0)."""
    if s.low is None or s.high is None:
        return None
    high = min(s.high, 1.0) if column.endswith("accuracy") else s.high
    return max(s.low, 0.0), high


def stat(values: Sequence[float]) -> Stat:
    n = len(values)
    if n == 0:
        return Stat(0, None, None, None)
    mean = sum(values) / n
    if n == 1:
        return Stat(1, mean, None, None)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return Stat(n, mean, std, t975(n - 1) * std / math.sqrt(n))


@dataclass(frozen=True)
class RunEntry:
    """One run as the comparison sees it."""

    name: str  # "run 3", or the run folder's name
    label: dict[str, str]  # the configuration's key values (seed excluded)
    seed: str
    status: str  # done | failed | pending
    error: str = ""
    folder: Path | None = None  # the run folder (absolute) of a finished run
    facts: dict[str, float | None] = field(default_factory=dict)  # METRICS columns


@dataclass(frozen=True)
class ConfigFold:
    """A configuration: its key values, its runs and the statistics of their results."""

    id: str  # c1, c2, ... in the order configurations first appear
    label: dict[str, str]
    runs: list[RunEntry]
    stats: dict[str, Stat]

    @property
    def done(self) -> int:
        return sum(1 for r in self.runs if r.status == DONE)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.runs if r.status == FAILED)

    @property
    def title(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.label.items()) or "(one configuration)"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _total(bytes_: Mapping[str, Any], direction: str) -> float | None:
    total = _number(bytes_.get(f"{direction}_total"))
    if total is not None:
        return total
    kinds = _section(bytes_, direction)
    values = [v for v in (_number(x) for x in kinds.values()) if v is not None]
    return sum(values) if values else None


def summary_results(summary: Mapping[str, Any]) -> dict[str, float | None]:
    """The METRICS of a run from its summary.json (wall time: the run's total, where recorded)."""
    acc = _section(summary, "accuracy")
    hours = _section(summary, "time_to_accuracy_hours")
    bytes_ = _section(summary, "bytes")
    energy = _section(summary, "energy_wh")
    wall = _section(summary, "wall")
    return {
        "final_accuracy": _number(acc.get("final")),
        "best_accuracy": _number(acc.get("best")),
        **{f"time_to_{t}_h": _number(hours.get(t)) for t in THRESHOLDS},
        "bytes_up": _total(bytes_, "up"),
        "bytes_down": _total(bytes_, "down"),
        "energy_wh": _number(energy.get("training_total", energy.get("total"))),
        "wall_s": _number(wall.get("total_seconds", wall.get("mission_wall_seconds"))),
    }


def fold(entries: Sequence[RunEntry]) -> list[ConfigFold]:
    """Group runs by configuration (first-appearance order) and fold their finished seeds."""
    groups: dict[tuple[tuple[str, str], ...], list[RunEntry]] = {}
    for entry in entries:
        groups.setdefault(tuple(entry.label.items()), []).append(entry)
    out = []
    for i, (label, runs) in enumerate(groups.items(), start=1):
        done = [r for r in runs if r.status == DONE]
        stats = {}
        for column, _ in METRICS:
            stats[column] = stat([v for r in done if (v := r.facts.get(column)) is not None])
        out.append(ConfigFold(f"c{i}", dict(label), list(runs), stats))
    return out


def config_columns(keys: Sequence[str]) -> list[str]:
    """configs.csv's columns: the configuration, its key values, its run counts, then n/mean/std/ci95 per result."""
    stats = [f"{column}_{part}" for column, _ in METRICS for part in ("n", "mean", "std", "ci95")]
    return ["config", *keys, "runs", "done", "failed", "seeds", *stats]


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


def configs_csv(folds: Sequence[ConfigFold], keys: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(config_columns(keys))
    for f in folds:
        row: list[str] = [f.id, *(f.label.get(k, "") for k in keys), str(len(f.runs)), str(f.done), str(f.failed)]
        row.append(";".join(r.seed for r in f.runs if r.status == DONE))
        for column, _ in METRICS:
            s = f.stats[column]
            row += [str(s.n), _cell(s.mean), _cell(s.std), _cell(s.ci95)]
        writer.writerow(row)
    return out.getvalue()


def write_configs_csv(path: Path, folds: Sequence[ConfigFold], keys: Sequence[str]) -> Path:
    """configs.csv: one row per configuration (empty cells where a statistic does not exist)."""
    return write_text(path, configs_csv(folds, keys))
