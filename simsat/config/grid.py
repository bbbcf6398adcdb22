"""A sweep's grid from command-line overrides in Hydra's syntax, expanded by Hydra itself.

`key=a,b`, `key=range(1,9)`, `key=choice(a,b)` (and Hydra's other discrete sweeps: `glob`,
`sort`, `shuffle`) become the cartesian product of their values, in the order the keys are given,
exactly as Hydra's BasicSweeper expands a `--multirun`. Plain `key=value` items join every
combination. This is the config layer: the only place besides `simsat.config.load` that imports
Hydra; `simsat.sweep` receives plain lists of `key=value` strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
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
        swept = [o.get_key_element() for o in overrides if o.is_sweep_override()]
        (combinations,) = BasicSweeper.split_arguments(overrides, max_batch_size=None)
    except (HydraException, OmegaConfBaseException) as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"sweep overrides: {reason}") from None
    keys = [o.get_key_element() for o in overrides]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ConfigError(f"sweep overrides: {repeated[0]} is given more than once")
    return Grid(combinations=[list(c) for c in combinations], swept=swept)
