"""Compose a scenario with Hydra, validate it against the schema, and return typed config objects.

This is the only module that imports Hydra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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


def check_override(item: str) -> tuple[str, str]:
    """Split one command-line override into (key, value); ConfigError unless it is key=value."""
    if "=" not in item:
        raise ConfigError(f"expected key=value, got {item!r}")
    key, value = item.split("=", 1)
    if not key.strip():
        raise ConfigError(f"override {item!r} has no key (expected key=value)")
    if any(ch.isspace() for ch in key):
        raise ConfigError(f"override key {key!r} contains spaces (expected key=value)")
    if key[0] in "+~":
        plain = key.lstrip("+~")
        raise ConfigError(f"override {item!r}: keys cannot be added or removed, only set (write {plain}=...)")
    return key, value


def split_selector(items: Sequence[str], key: str, default: str) -> tuple[str, list[str]]:
    """Pick `key=NAME` out of key=value items; return (NAME or default, the other items)."""
    selected = default
    overrides = []
    for item in items:
        name, value = check_override(item)
        if name == key:
            if not value.strip():
                raise ConfigError(f"{key}= needs a name or a .yaml path")
            selected = value
        else:
            overrides.append(item)
    return selected, overrides


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or (str(exc).strip().splitlines() or ["syntax error"])[0]
    return f"{problem}{where}"


def check_config_file(path: Path, schema_name: str, kind: str) -> None:
    """The file parses as YAML, is a mapping of keys, and has a `defaults:` list (which starts from
    `schema_name` or from another config that does; composing it tells which)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{kind} file {path} is not a text (YAML) file") from None
    except OSError as exc:
        raise ConfigError(f"{kind} file {path} cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{kind} file {path} is not valid YAML: {_yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{kind} file {path} is not a {kind}: expected a mapping of keys, got {got}")
    defaults = data.get("defaults")
    if not isinstance(defaults, list) or not defaults:
        raise ConfigError(
            f"{kind} file {path} lacks a 'defaults:' list starting from {schema_name} "
            f"(e.g. defaults: [{schema_name}, _self_])"
        )
    if not _inherits(path, defaults, schema_name):
        raise ConfigError(
            f"{kind} file {path}: its 'defaults:' list must start from {schema_name} "
            f"(e.g. defaults: [{schema_name}, _self_])"
        )


def _inherits(path: Path, defaults: list[object], schema_name: str, depth: int = 0) -> bool:
    """True when `defaults` names the schema, directly or through a sibling config file that does."""
    if schema_name in defaults:
        return True
    if depth > 8:
        return False
    for entry in defaults:
        sibling = path.parent / f"{entry}.yaml" if isinstance(entry, str) and entry != "_self_" else None
        if sibling is None or not sibling.is_file():
            continue
        try:
            parent = yaml.safe_load(sibling.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        inherited = parent.get("defaults") if isinstance(parent, dict) else None
        if isinstance(inherited, list) and _inherits(sibling, inherited, schema_name, depth + 1):
            return True
    return False


def _named_groups(path: Path, defaults: list[object], depth: int = 0) -> set[str]:
    """Config groups a defaults list chooses, directly or through the sibling config files it names."""
    named: set[str] = set()
    for entry in defaults:
        if isinstance(entry, dict):
            named.update(str(key) for key in entry)
        elif isinstance(entry, str) and entry != "_self_" and depth <= 8:
            sibling = path.parent / f"{entry}.yaml"
            try:
                parent = yaml.safe_load(sibling.read_text(encoding="utf-8")) if sibling.is_file() else None
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                parent = None
            inherited = parent.get("defaults") if isinstance(parent, dict) else None
            if isinstance(inherited, list):
                named |= _named_groups(sibling, inherited, depth + 1)
    return named


def _group_choices(path: Path, search_dir: Path, overrides: Sequence[str]) -> list[str]:
    """`group=option` for a config group the file's defaults list does not choose becomes an
    addition to that list, so every scenario takes every group (e.g. `isl=optical`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    named = _named_groups(path, data.get("defaults") or [])
    out = []
    for item in overrides:
        key = item.split("=", 1)[0]
        added = "." not in key and key not in named and (search_dir / key).is_dir()
        out.append(f"+{item}" if added else item)
    return out


def compose_file(
    path: Path,
    schema_name: str,
    schema: type,
    search_dir: Path,
    label: str,
    overrides: Sequence[str] = (),
    kind: str = "config",
) -> DictConfig:
    """Compose the YAML file `path` (whose defaults may name `schema_name` and groups found in
    `search_dir`) with key=value overrides; errors become one-line ConfigErrors starting with `label`."""
    check_config_file(path, schema_name, kind)
    for item in overrides:
        check_override(item)
    overrides = _group_choices(path, search_dir, overrides)
    ConfigStore.instance().store(name=schema_name, node=schema)
    GlobalHydra.instance().clear()
    search = f"hydra.searchpath=[file://{search_dir}]"
    try:
        with initialize_config_dir(config_dir=str(path.parent), version_base=None):
            return compose(config_name=path.stem, overrides=[search, *overrides])
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"{label}: {_first_line(exc)}") from None
    except yaml.YAMLError as exc:  # a config group file that does not parse
        raise ConfigError(f"{label}: a config file is not valid YAML: {_yaml_problem(exc)}") from None
    finally:
        GlobalHydra.instance().clear()


def to_typed(cfg: DictConfig, label: str) -> object:
    """The composed config as its schema's dataclass instance."""
    try:
        return OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{label}: {_first_line(exc)}") from None


def compose_config(scenario: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose `scenario` (a name in simsat/scenarios/ or a YAML path) with key=value overrides."""
    path = scenario_file(scenario)
    label = f"scenario '{scenario}'"
    return compose_file(path, SCHEMA_NAME, SimsatConfig, configs_dir(), label, overrides, kind="scenario")


def load_config(scenario: str, overrides: Sequence[str] = ()) -> SimsatConfig:
    """Compose, convert to the typed schema, and validate every value."""
    label = f"scenario '{scenario}'"
    config = to_typed(compose_config(scenario, overrides), label)
    if not isinstance(config, SimsatConfig):
        raise ConfigError(f"{label} is not a scenario: its defaults must start from {SCHEMA_NAME}")
    validate_config(config)
    return config


def to_yaml(config: SimsatConfig) -> str:
    return OmegaConf.to_yaml(OmegaConf.structured(config))


def list_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every scenario in simsat/scenarios/."""
    result = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        description = str(data.get("description", "")).strip().splitlines()
        result.append((path.stem, description[0] if description else ""))
    return result
