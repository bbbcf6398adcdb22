"""Many scenarios from one command line (a sweep's grid), each exactly as `load_config` gives it,
without a full Hydra composition per combination.

Hydra composes a config in two steps: the defaults list (the scenario file and its config-group
choices, e.g. `link=xband`) is merged into one config, then every plain `key=value` override is
applied to it in order. Only the first step is slow (0.3-0.8 s); it depends only on the scenario
and the group choices, so `ScenarioBatch` composes once per distinct choice and applies each
combination's value overrides to a copy with Hydra's own override step. Validation shares its
registries through one `ValidationMemo`. Like `simsat.config.load`, this module imports Hydra.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Collection, Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import ConfigCompositionException, HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from simsat.config.load import SCHEMA_NAME, _first_line, check_override, compose_config, to_typed
from simsat.config.paths import configs_dir
from simsat.config.schema import SimsatConfig
from simsat.config.validate import ValidationMemo, validate_config
from simsat.errors import ConfigError

TOP_KEYS = frozenset(f.name for f in dataclasses.fields(SimsatConfig))


def _is_value_override(override: Override, groups: Collection[str]) -> bool:
    """A `key=value` on a schema key (`seed=3`, `a.b=value`, `ground_stations=[...]`), applied
    after composition; anything else (a config-group choice such as `link=xband`, a package, a
    Hydra key) takes part in composition, as in Hydra."""
    key = override.key_or_group
    if override.package is not None or key in groups or "/" in key:
        return False
    return key.split(".", 1)[0] in TOP_KEYS


class ScenarioBatch:
    """Loads and validates many override lists of one scenario; equal to `load_config` for each."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.label = f"scenario '{scenario}'"
        self.memo = ValidationMemo()
        self._parser = OverridesParser.create()
        self._composed: dict[tuple[str, ...], DictConfig] = {}
        groups = configs_dir()
        self._groups = {p.name for p in groups.iterdir() if p.is_dir()}

    def _base(self, overrides: Sequence[str]) -> tuple[DictConfig, list[Override]]:
        """The cached composition of the overrides' group choices, and their value overrides."""
        for item in overrides:
            check_override(item)
        try:
            parsed = self._parser.parse_overrides(list(overrides))
        except (HydraException, OmegaConfBaseException) as exc:
            raise ConfigError(f"{self.label}: {_first_line(exc)}") from None
        values = [o for o in parsed if _is_value_override(o, self._groups)]
        choices = tuple(o.input_line or "" for o in parsed if o not in values)
        if choices not in self._composed:
            self._composed[choices] = compose_config(self.scenario, choices)
        return self._composed[choices], values

    def compose(self, overrides: Sequence[str]) -> DictConfig:
        """The composed (untyped) config: the cached composition of its group choices, then its
        value overrides applied in order by Hydra's own override step (on a copy)."""
        base, values = self._base(overrides)
        cfg = copy.deepcopy(base)
        self._apply(values, cfg)
        return cfg

    def _apply(self, values: list[Override], cfg: DictConfig) -> None:
        try:
            apply_overrides(values, cfg)
        except (HydraException, OmegaConfBaseException) as exc:
            raise ConfigError(f"{self.label}: {_first_line(exc)}") from None

    def _typed(self, overrides: Sequence[str]) -> object:
        """The typed config of `overrides`. The cached composition is changed in place and put
        back afterwards: only the top-level sections the overrides touch are copied."""
        base, values = self._base(overrides)
        sections = {o.key_or_group.split(".", 1)[0] for o in values}
        saved = {name: copy.deepcopy(base._get_node(name)) for name in sections if name in base}
        try:
            self._apply(values, base)
            return to_typed(base, self.label)
        finally:  # the saved copies go back as they are (OmegaConf's setter would validate and copy them again)
            content = base.__dict__["_content"]
            for name, node in saved.items():
                node.__dict__["_parent"] = base
                content[name] = node

    def load(self, overrides: Sequence[str]) -> SimsatConfig:
        """Compose, convert to the typed schema and validate, as `load_config(scenario, overrides)`."""
        config = self._typed(overrides)
        if not isinstance(config, SimsatConfig):
            raise ConfigError(f"{self.label} is not a scenario: its defaults must start from {SCHEMA_NAME}")
        validate_config(config, self.memo)
        return config


def apply_overrides(values: Sequence[Override], cfg: DictConfig) -> None:
    """Set each `key=value` override on `cfg` as Hydra's composition does (its step is internal
    to Hydra; this is the same through OmegaConf's public `update`, with the same errors), so a
    config made here equals the one `load_config` composes. Only plain `key=value` overrides:
    the command line refuses adding and deleting keys before this."""
    for override in values:
        if override.package is not None:
            raise ConfigCompositionException(
                f"Override {override.input_line} looks like a config group override, but config group"
                f" '{override.key_or_group}' does not exist."
            )
        if override.is_delete() or override.is_add() or override.is_force_add():
            raise ConfigCompositionException(f"Override {override.input_line}: only key=value overrides are applied")
        key = override.key_or_group
        try:
            try:
                OmegaConf.update(cfg, key, override.value(), merge=True)
            except (ConfigAttributeError, ConfigKeyError) as exc:
                raise ConfigCompositionException(
                    f"Could not override '{key}'.\nTo append to your config use +{override.input_line}"
                ) from exc
        except OmegaConfBaseException as exc:
            raise ConfigCompositionException(f"Error merging override {override.input_line}") from exc
