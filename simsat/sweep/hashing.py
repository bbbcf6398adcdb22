"""Config hashes: what identifies a run (or an experiment piece) regardless of where it runs.

Keys that only say where or how a run executes (output and cache folders, progress, the Ray
settings, the Flower engine, the sweep's own keys, extra result files) are left out; file paths are resolved, so
`data.path=../data` and its absolute form hash the same.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simsat.config.schema import SimsatConfig

HASH_LENGTH = 12
# scenario keys that do not change what a run computes
SCENARIO_EXECUTION_KEYS = (
    "run.output_dir",
    "run.progress",
    "run.engine",
    "run.device",
    "ray",
    "sweep",
    "data.cache_dir",
    "results",  # extra result files (TensorBoard)
)
# keys added to the schema after runs were recorded: hashed only when they differ from their
# default, so a run recorded before a key existed keeps its hash (and its record)
ADDED_KEYS = ("distill.refresh", "isl", "federation.isl_aggregation", "faults.isl_loss_rate", "ground")


def stable_hash(data: Any, length: int = HASH_LENGTH) -> str:
    """Hex SHA-256 of `data` as sorted JSON, cut to `length` characters."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:length]


def resolved(path: str) -> str:
    """An absolute form of a path value ('' stays '')."""
    return str(Path(path).expanduser().resolve()) if path else ""


def drop_keys(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """`data` without the dotted `keys` (a copy; missing keys are ignored)."""
    out = json.loads(json.dumps(data))
    for dotted in keys:
        *parents, last = dotted.split(".")
        node = out
        for part in parents:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(last, None)
    return dict(out)


def _at(data: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def scenario_hash(config: SimsatConfig) -> str:
    """Hash of everything that shapes a scenario's results."""
    d = drop_keys(dataclasses.asdict(config), SCENARIO_EXECUTION_KEYS)
    default = dataclasses.asdict(SimsatConfig())
    d = drop_keys(d, [key for key in ADDED_KEYS if _at(d, key) == _at(default, key)])
    d["data"]["path"] = resolved(d["data"]["path"])
    d["data"]["split_dir"] = resolved(d["data"]["split_dir"])
    d["constellation"]["tle"] = resolved(d["constellation"]["tle"])
    d["hardware"]["files"] = [resolved(f) for f in d["hardware"]["files"]]
    for teacher in d["distill"]["teachers"]:
        teacher["checkpoint"] = resolved(teacher["checkpoint"])
    return stable_hash(d)
