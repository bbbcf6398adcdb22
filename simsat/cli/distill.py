"""`simsat distill [experiment=NAME|path.yaml] [key=value ...]`: the centralized distillation experiment.

Composes simsat/configs/experiment/<NAME>.yaml (with its recipe group) and the overrides with Hydra's
compose API, validates it against simsat.config.experiment.ExperimentConfig, runs it and
returns the finished output folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from simsat.config.experiment import ExperimentConfig
from simsat.config.inputs import check_experiment_inputs
from simsat.config.load import compose_file, split_selector, to_typed
from simsat.config.paths import configs_dir, named_yaml
from simsat.config.validate import validate_experiment
from simsat.errors import ConfigError
from simsat.interrupt import StopRequest, stop_on_signals

DEFAULT_EXPERIMENT = "synthetic"
SCHEMA_NAME = "experiment_schema"


def experiments_dir() -> Path:
    """simsat/configs/experiment/ (follows SIMSAT_CONFIGS)."""
    return configs_dir() / "experiment"


def experiment_file(name: str) -> Path:
    """Resolve an experiment name (in simsat/configs/experiment/) or a path to an experiment YAML file."""
    return named_yaml(name, experiments_dir(), "experiment")


def compose_experiment(experiment: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose the experiment file with key=value overrides (recipe=paper swaps the recipe group)."""
    path = experiment_file(experiment)
    # the experiments' folder holds the recipe group, even for a file given by path
    label = f"experiment '{experiment}'"
    return compose_file(path, SCHEMA_NAME, ExperimentConfig, experiments_dir(), label, overrides, kind="experiment")


def load_experiment(items: Sequence[str]) -> ExperimentConfig:
    """experiment=NAME and key=value items -> a validated ExperimentConfig."""
    experiment, overrides = split_selector(items, "experiment", DEFAULT_EXPERIMENT)
    label = f"experiment '{experiment}'"
    config = to_typed(compose_experiment(experiment, overrides), label)
    if not isinstance(config, ExperimentConfig):
        raise ConfigError(f"{label} is not an experiment: its defaults must start from {SCHEMA_NAME}")
    validate_experiment(config)
    return config


def run_distill(overrides: list[str]) -> Path:
    """Load and validate the experiment, check its input files, run it; return its finished folder.
    SIGINT/SIGTERM stop it (`Interrupted`, exit 130/143) and its unfinished folder is removed."""
    config = load_experiment(overrides)
    check_experiment_inputs(config)
    import torch

    from simsat.cli.progress import progress_reporter
    from simsat.experiment.central import run_experiment

    if config.threads > 0:
        torch.set_num_threads(config.threads)
    with stop_on_signals(StopRequest()), progress_reporter(config.progress) as progress:
        return run_experiment(config, progress)
