"""Compose a scenario with Hydra, validate it against the schema, and return typed config objects.

This is the only module that imports Hydra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from simsat.config.paths import configs_dir, scenario_file, scenarios_dir
from simsat.config.schema import SimsatConfig
from simsat.config.validate import validate_config
from simsat.errors import ConfigError

SCHEMA_NAME = "simsat_schema"


def _first_line(exc: BaseException) -> str:
    """The most specific one-line reason from a Hydra/OmegaConf exception chain."""
    messages = []
    current: BaseException | None = exc
    while current is not None:
        text = str(current).strip().splitlines()
        if text and "$VALUE" not in text[0]:
            messages.append(text[0].rstrip("."))
        current = current.__cause__ or current.__context__
    return "; ".join(dict.fromkeys(messages))  # de-duplicated, ordered


def split_selector(items: Sequence[str], key: str, default: str) -> tuple[str, list[str]]:
    """Pick `key=NAME` out of key=value items; return (NAME or default, the other items)."""
    selected = default
    overrides = []
    for item in items:
        if "=" not in item:
            raise ConfigError(f"expected key=value, got '{item}'")
        name, value = item.split("=", 1)
        if name == key:
            selected = value
        else:
            overrides.append(item)
    return selected, overrides


def compose_file(
    path: Path, schema_name: str, schema: type, search_dir: Path, label: str, overrides: Sequence[str] = ()
) -> DictConfig:
    """Compose the YAML file `path` (whose defaults may name `schema_name` and groups found in
    `search_dir`) with key=value overrides; errors become one-line ConfigErrors starting with `label`."""
    ConfigStore.instance().store(name=schema_name, node=schema)
    GlobalHydra.instance().clear()
    search = f"hydra.searchpath=[file://{search_dir}]"
    try:
        with initialize_config_dir(config_dir=str(path.parent), version_base=None):
            return compose(config_name=path.stem, overrides=[search, *overrides])
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"{label}: {_first_line(exc)}") from exc
    finally:
        GlobalHydra.instance().clear()


def to_typed(cfg: DictConfig, label: str) -> object:
    """The composed config as its schema's dataclass instance."""
    try:
        return OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{label}: {_first_line(exc)}") from exc


def compose_config(scenario: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose `scenario` (a name in scenarios/ or a YAML path) with key=value overrides."""
    path = scenario_file(scenario)
    return compose_file(path, SCHEMA_NAME, SimsatConfig, configs_dir(), f"scenario '{scenario}'", overrides)


def load_config(scenario: str, overrides: Sequence[str] = ()) -> SimsatConfig:
    """Compose, convert to the typed schema, and validate every value."""
    config = to_typed(compose_config(scenario, overrides), f"scenario '{scenario}'")
    assert isinstance(config, SimsatConfig)
    validate_config(config)
    return config


def to_yaml(config: SimsatConfig) -> str:
    return OmegaConf.to_yaml(OmegaConf.structured(config))


def list_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every scenario in scenarios/."""
    result = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        description = str(data.get("description", "")).strip().splitlines()
        result.append((path.stem, description[0] if description else ""))
    return result


def scenario_path(scenario: str) -> Path:
    return scenario_file(scenario)
