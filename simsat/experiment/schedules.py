"""One invocation of the centralized experiment in pieces: its schedules' configs, their pieces, one summary.

A schedule is an experiment config (e.g. eurosat, or eurosat_long: the same teachers, students on
40 epochs) composed with what every schedule of the invocation shares (`ScheduleInputs`: data,
splits, cache, threads and the smoke-test shortcuts). `run_schedules` runs the missing pieces of
the main schedule under <pieces>/<config hash>/ and writes the summary over its pieces and the
finished pieces of the others (simsat.experiment.pieces). bench/eurosat_kd.py is its command line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from simsat.config.experiment import ExperimentConfig
from simsat.experiment.central import Progress
from simsat.experiment.pieces import experiment_hash, run_pieces, summarize_pieces

# experiment=NAME and key=value items -> a validated config (simsat.cli.distill.load_experiment)
LoadExperiment = Callable[[Sequence[str]], ExperimentConfig]


@dataclass(frozen=True)
class ScheduleInputs:
    """What every schedule of one invocation shares."""

    data: str
    splits: str  # '' for a seeded stratified split
    cache: str  # data.cache_dir: decoded images, teacher weights and logits
    threads: int = 2
    limit: int = 0  # at most this many images per split (0: all)
    epochs: int = 0  # student epochs (0: the config's)
    teacher_epochs: int = -1  # epochs of every teacher (-1: the config's)
    overrides: tuple[str, ...] = ()

    def items(self, experiment: str) -> list[str]:
        items = [
            f"experiment={experiment}",
            f"data.path={self.data}",
            f"data.split_dir={self.splits}",
            f"data.cache_dir={self.cache}",
            "progress=false",
            f"threads={self.threads}",
        ]
        if self.limit:
            items.append(f"data.max_per_split={self.limit}")
        if self.epochs:
            items.append(f"train.epochs={self.epochs}")
        return [*items, *self.overrides]

    def config(self, experiment: str, load: LoadExperiment) -> ExperimentConfig:
        cfg = load(self.items(experiment))
        if self.teacher_epochs >= 0:
            for teacher in cfg.teachers:
                teacher.epochs = self.teacher_epochs
        return cfg


def run_schedules(
    cfg: ExperimentConfig,
    others: Sequence[tuple[str, ExperimentConfig]],
    pieces: Path,
    out: Path,
    command: str,
    only: str = "",
    prepare_only: bool = False,
    summary_only: bool = False,
    remeasure_efficiency: bool = False,
    bare_steps: int = 30,
    progress: Progress | None = None,
) -> Path:
    """Run the main schedule's missing pieces (unless summary_only), then write <out>/eurosat_kd.json
    over its pieces and the others' (name, config) finished ones; returns the summary's path."""
    out.mkdir(parents=True, exist_ok=True)
    folder = pieces / experiment_hash(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    other_folders = [(name, other, pieces / experiment_hash(other)) for name, other in others]
    if not summary_only:
        run_pieces(cfg, folder, command, only, prepare_only, remeasure_efficiency, bare_steps, progress=progress)
    return summarize_pieces(cfg, folder, out, command, other_folders)
