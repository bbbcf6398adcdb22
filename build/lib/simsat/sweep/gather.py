"""The runs a comparison shows, read from folders: a sweep folder (sweep.json, runs.csv) or a run
folder (summary.json). What tells configurations apart: a sweep's swept keys, and, across folders,
every key of the runs' config.yaml whose value differs (seed and where-it-ran keys excluded).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from simsat.errors import ConfigError
from simsat.results.runfolder import read_config, read_summary
from simsat.sweep.fold import SEED_KEY, RunEntry, summary_results
from simsat.sweep.hashing import SCENARIO_EXECUTION_KEYS
from simsat.sweep.records import DONE, PENDING

# keys that never tell configurations apart (besides SCENARIO_EXECUTION_KEYS)
NOT_CONFIGURATION = (SEED_KEY, "results", "description")


@dataclass(frozen=True)
class Comparison:
    """What a comparison page shows: its runs and the keys that tell their configurations apart."""

    title: str
    sources: list[Path]
    keys: list[str]
    entries: list[RunEntry]


def is_sweep_folder(folder: Path) -> bool:
    return (folder / "sweep.json").is_file() and (folder / "runs.csv").is_file()


def is_run_folder(folder: Path) -> bool:
    return (folder / "summary.json").is_file()


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def swept_keys(folder: Path) -> list[str]:
    """The keys a sweep folder's grid sweeps (sweep.json)."""
    return [str(k) for k in json.loads((folder / "sweep.json").read_text(encoding="utf-8")).get("swept", [])]


def _run_entry(name: str, label: dict[str, str], seed: str, folder: Path, wall_s: float | None) -> RunEntry:
    facts = summary_results(read_summary(folder / "summary.json"))
    if wall_s is not None:
        facts["wall_s"] = wall_s
    return RunEntry(name, label, seed, DONE, "", folder.resolve(), facts)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def sweep_entries(folder: Path) -> tuple[list[str], list[RunEntry]]:
    """A sweep folder's configuration keys (swept, seed excluded) and its runs, in grid order."""
    swept = swept_keys(folder)
    keys = [k for k in swept if k != SEED_KEY]
    entries = []
    for row in _read_rows(folder / "runs.csv"):
        label = {k: canonical(row.get(k, "")) for k in keys}
        seed = row.get(SEED_KEY, "") if SEED_KEY in swept else ""
        name = f"run {row.get('run', '?')}"
        status = row.get("status") or PENDING
        run_folder = folder / row["run_folder"] if row.get("run_folder") else None
        if status == DONE and run_folder is not None and is_run_folder(run_folder):
            if not seed:
                seed = str(read_summary(run_folder / "summary.json").get(SEED_KEY, ""))
            entries.append(_run_entry(name, label, seed, run_folder, _float(row.get("wall_s"))))
        else:
            entries.append(RunEntry(name, label, seed, status if status != DONE else PENDING, row.get("error", "")))
    return keys, entries


def canonical(text: str) -> str:
    """A value as the page shows it: numbers in one form ('6', '6.0' and '6.00' are '6'), text as it is."""
    try:
        number = float(text)
    except ValueError:
        return text
    return format(number, ".10g") if math.isfinite(number) else text


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """A nested config as dotted keys -> text; a list of mappings by index (distill.teachers.0.epochs),
    other lists as JSON."""
    out: dict[str, str] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{dotted}."))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            out[f"{dotted}.count"] = str(len(value))
            for i, item in enumerate(value):
                out.update(flatten(item, f"{dotted}.{i}."))
        else:
            out[dotted] = canonical(value if isinstance(value, str) else json.dumps(value))
    return out


def _excluded(key: str) -> bool:
    return any(key == k or key.startswith(f"{k}.") for k in (*SCENARIO_EXECUTION_KEYS, *NOT_CONFIGURATION))


def _overrides(text: str) -> dict[str, str]:
    out = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if sep:
            out[key.lstrip("+~")] = value
    return out


def gather(paths: Sequence[Path]) -> Comparison:
    """Every run of the given run and sweep folders; ConfigError naming the first folder that is neither."""
    if not paths:
        raise ConfigError("compare: give at least one run or sweep folder")
    sources: list[Path] = []
    for path in paths:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"compare: {path}: no such folder")
        if not (is_sweep_folder(folder) or is_run_folder(folder)):
            raise ConfigError(
                f"compare: {path} is neither a run folder (summary.json) nor a sweep folder (sweep.json, runs.csv)"
            )
        sources.append(folder.resolve())
    found: list[tuple[RunEntry, dict[str, str]]] = []  # each run and its flattened config (or overrides)
    swept: list[str] = []
    for folder in sources:
        if is_sweep_folder(folder):
            keys, entries = sweep_entries(folder)
            swept += [k for k in keys if k not in swept]
            overrides = {f"run {r['run']}": _overrides(r.get("overrides", "")) for r in _read_rows(folder / "runs.csv")}
            for e in entries:
                values = flatten(read_config(e.folder / "config.yaml")[0]) if e.folder else overrides.get(e.name, {})
                found.append((replace(e, name=f"{folder.name} {e.name}"), values))
        else:
            summary = read_summary(folder / "summary.json")
            config = flatten(read_config(folder / "config.yaml")[0])
            seed = str(summary.get(SEED_KEY, config.get(SEED_KEY, "")))
            found.append((_run_entry(folder.name, {}, seed, folder, None), config))
    configs = [values for entry, values in found if entry.folder is not None]
    differing = sorted(
        {k for values in configs for k in values if not _excluded(k) and len({v.get(k) for v in configs}) > 1}
    )
    keys = [*swept, *(k for k in differing if k not in swept)]
    entries = []
    for entry, values in found:
        label = {k: canonical(entry.label[k] if k in entry.label else values.get(k, "")) for k in keys}
        entries.append(replace(entry, label=label))
    title = ", ".join(f.name for f in sources[:3]) + (f" and {len(sources) - 3} more" if len(sources) > 3 else "")
    return Comparison(title, sources, keys, entries)
