"""A sweep's grid from command-line overrides in Hydra's syntax, expanded by Hydra itself.

`key=a,b`, `key=range(1,9)`, `key=choice(a,b)` (and Hydra's other discrete sweeps: `glob`,
`sort`, `shuffle`) become the cartesian product of their values, in the order the keys are given,
as Hydra's BasicSweeper expands a `--multirun`, through Hydra's public `Override` API (the sweeper
itself is internal to Hydra). Plain `key=value` items join every combination. This is the config
layer: the only place besides `simsat.config.load` that imports Hydra; `simsat.sweep` receives
plain lists of `key=value` strings.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from simsat.config.load import check_override
from simsat.errors import ConfigError


@dataclass(frozen=True)
class Grid:
    """Every combination as its `key=value` items, and the keys that take more than one value."""

    combinations: list[list[str]]
    swept: list[str]

    def __len__(self) -> int:
        return len(self.combinations)


def expand_grid(items: Sequence[str]) -> Grid:
    """Expand `items` (key=value, key=v1,v2, key=range(...), key=choice(...)) into a Grid.

    Raises ConfigError with one line naming the item Hydra could not read.
    """
    for item in items:
        check_override(item)
    parser = OverridesParser.create()
    try:
        overrides = parser.parse_overrides(list(items))
        keys = [o.get_key_element() for o in overrides]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ConfigError(f"sweep overrides: {repeated[0]} is given more than once")
        choices = [_choices(o) for o in overrides]
    except (HydraException, OmegaConfBaseException) as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"sweep overrides: {reason}") from None
    swept = [o.get_key_element() for o in overrides if o.is_sweep_override()]
    return Grid(combinations=[list(c) for c in itertools.product(*choices)], swept=swept)


def _choices(override: Override) -> list[str]:
    """The `key=value` items one override stands for: one, or one per value of a discrete sweep."""
    key = override.get_key_element()
    if not override.is_sweep_override():
        return [f"{key}={override.get_value_element_as_str()}"]
    if not override.is_discrete_sweep():
        kind = override.value_type.name.lower().removesuffix("_sweep") if override.value_type else "this"
        raise ConfigError(f"sweep overrides: {key}: {kind} sweeps are not supported (use a,b / range / choice)")
    return [f"{key}={value}" for value in override.sweep_string_iterator()]
