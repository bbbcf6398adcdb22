"""Where config groups and scenarios live."""

from __future__ import annotations

import os
from pathlib import Path

from simsat.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parents[1]


def configs_dir() -> Path:
    """The folder of Hydra config groups (`simsat/configs/`, installed with the package); SIMSAT_CONFIGS
    overrides it."""
    path = Path(os.environ.get("SIMSAT_CONFIGS", _PACKAGE / "configs"))
    if not path.is_dir():
        raise ConfigError(f"config folder not found: {path} (set SIMSAT_CONFIGS)")
    return path


def scenarios_dir() -> Path:
    """The folder of complete scenarios (`simsat/scenarios/`, installed with the package);
    SIMSAT_SCENARIOS overrides it."""
    path = Path(os.environ.get("SIMSAT_SCENARIOS", _PACKAGE / "scenarios"))
    if not path.is_dir():
        raise ConfigError(f"scenario folder not found: {path} (set SIMSAT_SCENARIOS)")
    return path


def named_yaml(name: str, folder: Path, kind: str) -> Path:
    """Resolve `name` as a YAML file in `folder` (by stem) or, ending in .yaml/.yml, as a path.

    `kind` ("scenario", "experiment") names what was asked for in the error.
    """
    if name.endswith((".yaml", ".yml")):
        path = Path(name).expanduser().resolve()
        if not path.is_file():
            raise ConfigError(f"{kind} file not found: {name}")
        return path
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise ConfigError(f"unknown {kind} '{name}' (known: {known})")
    return path


def scenario_file(name: str) -> Path:
    """Resolve a scenario name (in simsat/scenarios/) or a path to a scenario YAML file."""
    return named_yaml(name, scenarios_dir(), "scenario")
