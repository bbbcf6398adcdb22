"""What the config folders offer (scenarios, config groups), read as plain YAML without Hydra.

Light on purpose: `simsat --help` and `simsat scenarios` use it and must start in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simsat.config.paths import configs_dir, scenarios_dir


@dataclass(frozen=True)
class ScenarioInfo:
    """One scenario file as listed to a user."""

    name: str
    description: str
    groups: dict[str, str]  # config group -> chosen option, from the file's defaults list
    satellites: int | None  # planes x sats_per_plane where the constellation says so
    hours: float | None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _groups(data: dict[str, Any]) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for entry in data.get("defaults") or []:
        if isinstance(entry, dict):
            for group, option in entry.items():
                chosen[str(group)] = str(option)
    return chosen


def _satellites(data: dict[str, Any], groups: dict[str, str], configs: Path | None) -> int | None:
    constellation: dict[str, Any] = {}
    if configs is not None and "constellation" in groups:
        constellation.update(_read(configs / "constellation" / f"{groups['constellation']}.yaml"))
    own = data.get("constellation")
    if isinstance(own, dict):
        constellation.update(own)
    try:
        return int(constellation["planes"]) * int(constellation["sats_per_plane"])
    except (KeyError, TypeError, ValueError):
        return None


def _hours(data: dict[str, Any]) -> float | None:
    mission = data.get("mission")
    try:
        return float(mission["duration_hours"]) if isinstance(mission, dict) else None
    except (KeyError, TypeError, ValueError):
        return None


def scenario_infos() -> list[ScenarioInfo]:
    """Every scenario in simsat/scenarios/, sorted by name."""
    try:
        configs: Path | None = configs_dir()
    except ValueError:
        configs = None
    infos = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
        data = _read(path)
        lines = str(data.get("description", "")).strip().splitlines()
        groups = _groups(data)
        infos.append(
            ScenarioInfo(
                name=path.stem,
                description=lines[0] if lines else "",
                groups=groups,
                satellites=_satellites(data, groups, configs),
                hours=_hours(data),
            )
        )
    return infos


def config_groups() -> dict[str, list[str]]:
    """Config group -> its options (YAML files in simsat/configs/<group>/), sorted."""
    groups: dict[str, list[str]] = {}
    for folder in sorted(p for p in configs_dir().iterdir() if p.is_dir()):
        options = sorted(p.stem for p in folder.glob("*.yaml"))
        if options:
            groups[folder.name] = options
    return groups
