"""Where config groups and scenarios live."""

from __future__ import annotations

import os
from pathlib import Path

from simsat.errors import ConfigError

_ROOT = Path(__file__).resolve().parents[2]


def configs_dir() -> Path:
    """The folder of Hydra config groups (`configs/`); SIMSAT_CONFIGS overrides it."""
    path = Path(os.environ.get("SIMSAT_CONFIGS", _ROOT / "configs"))
    if not path.is_dir():
        raise ConfigError(f"config folder not found: {path} (set SIMSAT_CONFIGS)")
    return path


def scenarios_dir() -> Path:
    """The folder of complete scenarios (`scenarios/`); SIMSAT_SCENARIOS overrides it."""
    path = Path(os.environ.get("SIMSAT_SCENARIOS", _ROOT / "scenarios"))
    if not path.is_dir():
        raise ConfigError(f"scenario folder not found: {path} (set SIMSAT_SCENARIOS)")
    return path


def scenario_file(name: str) -> Path:
    """Resolve a scenario name (in scenarios/) or a path to a scenario YAML file."""
    if name.endswith((".yaml", ".yml")):
        path = Path(name).expanduser().resolve()
        if not path.is_file():
            raise ConfigError(f"scenario file not found: {name}")
        return path
    path = scenarios_dir() / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in scenarios_dir().glob("*.yaml")))
        raise ConfigError(f"unknown scenario '{name}' (known: {known})")
    return path
