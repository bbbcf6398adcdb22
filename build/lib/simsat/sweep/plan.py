"""The runs of a sweep: each combination of the grid as a validated config with its hash."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from simsat.config.schema import SimsatConfig
from simsat.errors import ConfigError
from simsat.sweep.hashing import resolved, stable_hash

# keys every run of a sweep shares: they say where and how the sweep runs, not what a run computes
SHARED_KEYS = ("ray.", "sweep.")
ENGINE = "in_process"  # see simsat.sweep's docstring


@dataclass(frozen=True)
class SweepRun:
    """One combination: its index (from 1), its key=value items, the swept keys' values, its config."""

    index: int
    items: tuple[str, ...]
    swept: dict[str, str]
    config: SimsatConfig
    hash: str

    @property
    def label(self) -> str:
        """The swept values as `key=value` words (the run's number where nothing is swept)."""
        return " ".join(f"{k}={v}" for k, v in self.swept.items()) or f"run {self.index}"


@dataclass(frozen=True)
class SweepPlan:
    runs: list[SweepRun]
    swept: list[str]
    items: list[str]  # the command line's key=value items, as given

    @property
    def hash(self) -> str:
        """Hash of the runs' config hashes: the same grid gives the same sweep folder."""
        return stable_hash(sorted(r.hash for r in self.runs))

    @property
    def shared(self) -> SimsatConfig:
        """The config whose ray.* and sweep.* keys the whole sweep uses."""
        return self.runs[0].config


def _value(item: str) -> tuple[str, str]:
    key, value = item.split("=", 1)
    return key, value


def build_plan(
    items: Sequence[str],
    combinations: Sequence[Sequence[str]],
    swept: Sequence[str],
    load: Callable[[Sequence[str]], SimsatConfig],
    hasher: Callable[[SimsatConfig], str],
    checked: Callable[[int, int], None] | None = None,
) -> SweepPlan:
    """Validate every combination with `load` (items -> validated config) before anything runs.

    A combination that does not validate raises ConfigError naming the run, its swept values and
    the key; so does a swept ray.* or sweep.* key, and two combinations that are the same run.
    `checked(done, total)` is told after each combination (for a progress display).
    """
    for key in swept:
        if key.startswith(SHARED_KEYS):
            raise ConfigError(f"{key} cannot be swept: every run of a sweep shares the ray.* and sweep.* keys")
    runs: list[SweepRun] = []
    seen: dict[str, int] = {}
    for index, combination in enumerate(combinations, start=1):
        values = dict(_value(item) for item in combination)
        chosen = {key: values[key] for key in swept}
        label = " ".join(f"{k}={v}" for k, v in chosen.items())
        try:
            config = load(combination)
        except ConfigError as exc:
            raise ConfigError(f"run {index} of {len(combinations)} ({label}): {exc}") from None
        digest = hasher(config)
        if digest in seen:
            raise ConfigError(f"run {index} ({label}) is the same run as run {seen[digest]}: nothing differs")
        seen[digest] = index
        runs.append(SweepRun(index, tuple(combination), chosen, config, digest))
        if checked is not None:
            checked(index, len(combinations))
    if not runs:
        raise ConfigError("the sweep's grid has no run")
    return SweepPlan(runs=runs, swept=list(swept), items=list(items))


def run_config(run: SweepRun, output_dir: Path) -> SimsatConfig:
    """The config a run's Ray task plays: its own output folder, absolute paths (a task's working
    folder is Ray's), the in-process engine and no progress bars. Nothing that changes results."""
    c = run.config
    teachers = [dataclasses.replace(t, checkpoint=resolved(t.checkpoint)) for t in c.distill.teachers]
    return dataclasses.replace(
        c,
        run=dataclasses.replace(c.run, output_dir=str(output_dir), progress=False, engine=ENGINE),
        data=dataclasses.replace(
            c.data,
            path=resolved(c.data.path),
            split_dir=resolved(c.data.split_dir),
            cache_dir=resolved(c.data.cache_dir),
        ),
        constellation=dataclasses.replace(c.constellation, tle=resolved(c.constellation.tle)),
        hardware=dataclasses.replace(c.hardware, files=[resolved(f) for f in c.hardware.files]),
        distill=dataclasses.replace(c.distill, teachers=teachers),
    )


def run_cpus(config: SimsatConfig) -> float:
    """The Ray CPUs one run reserves."""
    cpus = config.sweep.run_cpus
    return float(cpus) if cpus > 0 else float(max(config.run.threads, config.training.threads))
