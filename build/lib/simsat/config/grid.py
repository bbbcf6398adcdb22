"""A sweep's grid from command-line overrides in Hydra's syntax, expanded by Hydra itself.

`key=a,b`, `key=range(1,9)`, `key=choice(a,b)` (and Hydra's other discrete sweeps: `glob`,
`sort`, `shuffle`) become the cartesian product of their values, in the order the keys are given,
as Hydra's BasicSweeper expands a `--multirun`, through Hydra's public `Override` API (the sweeper
itself is internal to Hydra). Plain `key=value` items join every combination. This is the config
layer: the only place besides `simsat.config.load` that imports Hydra; `simsat.sweep` receives
plain lists of `key=value` strings.
"""

from __future__ import annotations

import decimal
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Override, RangeSweep
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


def _count(override: Override) -> int:
    """How many values a sweep override takes, counted without listing a range."""
    value = override.value()
    if isinstance(value, RangeSweep) and value.start is not None and value.stop is not None:
        start, stop, step = (decimal.Decimal(v) for v in (value.start, value.stop, value.step or 0))  # as Hydra
        if step == 0:
            return 0
        return max(0, math.ceil((stop - start) / step))
    if isinstance(value, ChoiceSweep):
        return len(value.list)
    if isinstance(value, list):
        return len(value)
    return sum(1 for _ in override.sweep_string_iterator())


def _parse(items: Sequence[str]) -> list[Override]:
    for item in items:
        check_override(item)
    try:
        overrides = OverridesParser.create().parse_overrides(list(items))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"sweep overrides: {' '.join(str(exc).split())}") from None
    keys = [o.get_key_element() for o in overrides]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ConfigError(f"sweep overrides: {repeated[0]} is given more than once")
    return overrides


def grid_size(items: Sequence[str]) -> int:
    """The number of runs `items` expand to, counted without expanding them (a range of a
    million values costs nothing); ConfigError naming the item that gives no value at all."""
    size = 1
    for override in _parse(items):
        if not override.is_sweep_override():
            continue
        _discrete(override)
        try:
            count = _count(override)
        except (HydraException, OmegaConfBaseException, ValueError, ArithmeticError) as exc:
            raise ConfigError(f"sweep overrides: {override.input_line}: {' '.join(str(exc).split())}") from None
        if count == 0:
            raise ConfigError(f"sweep overrides: {override.input_line} gives no value, so the grid has no run")
        size *= count
    return size


def first_combination(items: Sequence[str]) -> list[str]:
    """The grid's first combination (each sweep's first value), found without expanding the grid."""
    first = []
    for override in _parse(items):
        if not override.is_sweep_override():
            first.append(override.input_line or "")
            continue
        _discrete(override)
        try:
            value = next(iter(override.sweep_string_iterator()), None)
        except (HydraException, OmegaConfBaseException) as exc:
            raise ConfigError(f"sweep overrides: {override.input_line}: {' '.join(str(exc).split())}") from None
        if value is None:
            raise ConfigError(f"sweep overrides: {override.input_line} gives no value, so the grid has no run")
        first.append(f"{override.get_key_element()}={value}")
    return first


def _check_size(size: int, max_runs: int | None, limit_key: str) -> None:
    if max_runs is not None and size > max_runs:
        raise ConfigError(
            f"{limit_key}: the grid has {size:,} runs, more than {limit_key}={max_runs:,}"
            f" (narrow the grid or raise {limit_key})"
        )


def expand_grid(items: Sequence[str], max_runs: int | None = None, limit_key: str = "sweep.max_runs") -> Grid:
    """Expand `items` (key=value, key=v1,v2, key=range(...), key=choice(...)) into a Grid.

    Raises ConfigError with one line naming the item Hydra could not read, an item that gives no
    value, or `limit_key` when the grid has more than `max_runs` runs (checked before expanding).
    """
    _check_size(grid_size(items), max_runs, limit_key)  # before expanding
    overrides = _parse(items)
    swept = [o.get_key_element() for o in overrides if o.is_sweep_override()]
    try:
        choices = [_choices(o) for o in overrides]
    except (HydraException, OmegaConfBaseException) as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"sweep overrides: {reason}") from None
    combinations = [list(c) for c in itertools.product(*choices)]
    if not combinations:
        raise ConfigError("sweep overrides: the grid has no run")
    _check_size(len(combinations), max_runs, limit_key)
    return Grid(combinations=[list(c) for c in combinations], swept=swept)


def _choices(override: Override) -> list[str]:
    """The `key=value` items one override stands for: one, or one per value of a discrete sweep."""
    key = override.get_key_element()
    if not override.is_sweep_override():
        return [f"{key}={override.get_value_element_as_str()}"]
    _discrete(override)
    return [f"{key}={value}" for value in override.sweep_string_iterator()]


def _discrete(override: Override) -> None:
    """ConfigError naming the key of a sweep that has no list of values (an interval)."""
    if not override.is_discrete_sweep():
        kind = override.value_type.name.lower().removesuffix("_sweep") if override.value_type else "this"
        key = override.get_key_element()
        raise ConfigError(f"sweep overrides: {key}: {kind} sweeps are not supported (use a,b / range / choice)")
