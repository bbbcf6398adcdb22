"""The central semi-supervised probe: can the FixMatch-style term lift a 10 %-label EuroSAT student?

No federation and no simulated time: the federated EuroSAT mission's ground set (10 % of the
train split, stratified, seed 0) and its satellites' unlabelled images, all in one place. The
baseline is the mission's teacher (`TEACHER`, loaded from or trained into the teacher cache). The
probe continues training that model with cross-entropy on the labels plus `simsat.distill.semi`'s
consistency term on the unlabelled images, and scores validation and test after every
`score_every` epochs; weight 0 is the control (the same continuation on the labels alone).
`run_semi_probe` writes its result after every score, so a stopped probe keeps what it measured.
bench/central_semi.py is its command line.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import simsat
from simsat.data import MissionData, load_eurosat_splits, split_mission_from_splits
from simsat.distill.recipe import TrainRecipe
from simsat.distill.semi import SemiSupervised, train_semi_supervised
from simsat.distill.teacher_cache import TeacherSpec, train_or_load_teachers
from simsat.distill.train import TrainHooks, evaluate
from simsat.errors import ConfigError
from simsat.models.inputs import Normalization
from simsat.results.atomic import write_text
from simsat.summary import machine

QUESTION = "Can the FixMatch-style term lift a 10 %-label EuroSAT student toward 95 %? A central probe."
TEACHER = TeacherSpec("resnet8", 64, 60, 0.01, 64)  # simsat/scenarios/federated_eurosat.yaml's teacher
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SemiProbe:
    """The continuation: its schedule, the consistency term, and the share of unlabelled images kept."""

    epochs: int = 30  # over the labelled images
    lr: float = 3e-3  # one-cycle peak
    ratio: int = 7  # unlabelled images per labelled image in a batch
    threshold: float = 0.95
    weight: float = 1.0
    unlabelled_fraction: float = 1.0
    score_every: int = 3
    seed: int = 0


def check_probe(probe: SemiProbe, data_dir: Path, splits_dir: Path) -> None:
    """ConfigError naming the first bad setting by its flag on bench/central_semi.py's command line
    (`--unlabelled-fraction`), before anything is loaded."""
    checks = [
        (probe.weight >= 0, "--weight", "must be >= 0", probe.weight),
        (0 <= probe.threshold <= 1, "--threshold", "must be in [0, 1]", probe.threshold),
        (probe.epochs >= 1, "--epochs", "must be >= 1", probe.epochs),
        (probe.ratio >= 1, "--ratio", "must be >= 1", probe.ratio),
        (probe.score_every >= 1, "--score-every", "must be >= 1", probe.score_every),
        (0 < probe.unlabelled_fraction <= 1, "--unlabelled-fraction", "must be in (0, 1]", probe.unlabelled_fraction),
        (data_dir.is_dir(), "--data", "must be a folder", str(data_dir)),
        (splits_dir.is_dir(), "--splits", "must be a folder", str(splits_dir)),
    ]
    for ok, flag, rule, value in checks:
        if not ok:
            raise ConfigError(f"{flag} {rule}, got {value!r}")


def _scores(model: nn.Module, data: MissionData, norm: Normalization) -> dict[str, float]:
    out = {}
    for split in ("validation", "test"):
        part = getattr(data, split)
        scores = evaluate(model, part.images, part.labels, norm, len(part.class_names))
        out[f"{split}_accuracy"] = round(scores.accuracy, 4)
    return out


def run_semi_probe(data_dir: Path, splits_dir: Path, cache: Path, out: Path, probe: SemiProbe, command: str) -> None:
    """Score the teacher, then continue it under the probe, writing `out` after every score."""
    parts = load_eurosat_splits(data_dir, splits_dir, cache / "eurosat")
    data = split_mission_from_splits(parts["train"], parts["validation"], parts["test"], 24, 0.1, "dirichlet", 0.5, 0)
    ground = data.ground
    norm = Normalization.from_images(ground.images)
    unlabelled = np.concatenate([s.images for s in data.satellites])
    rng = np.random.default_rng(probe.seed)
    keep = max(1, round(probe.unlabelled_fraction * len(unlabelled)))
    unlabelled = unlabelled[np.sort(rng.choice(len(unlabelled), keep, replace=False))]

    ((teacher, meta),) = train_or_load_teachers(
        [TEACHER],
        ground.images,
        ground.labels,
        norm,
        len(ground.class_names),
        ground.fingerprint(),
        cache / "teachers",
        0,
    )
    baseline = _scores(teacher, data, norm)
    logger.info("baseline (teacher, labels only): %s", baseline)

    recipe = TrainRecipe(epochs=probe.epochs, batch_size=64, lr=probe.lr, schedule="onecycle")
    semi = SemiSupervised(probe.weight, probe.threshold, probe.ratio)
    model = copy.deepcopy(teacher)
    curve: list[dict[str, Any]] = []
    start = time.perf_counter()
    result: dict[str, Any] = {
        "question": QUESTION,
        "labelled_images": len(ground),
        "unlabelled_images": int(len(unlabelled)),
        "teacher": {
            "name": TEACHER.name,
            "epochs": TEACHER.epochs,
            "lr": TEACHER.lr,
            "cache_file": Path(meta["cache_file"]).name,
        },
        "baseline": baseline,
        "continuation": {
            "epochs": probe.epochs,
            "lr": probe.lr,
            "schedule": "onecycle",
            "batch_size": 64,
            "ratio": probe.ratio,
            "threshold": probe.threshold,
            "weight": probe.weight,
            "seed": probe.seed,
        },
        "normalize": {"mean": [round(float(m), 6) for m in norm.mean], "std": [round(float(s), 6) for s in norm.std]},
        "versions": {"simsat": simsat.__version__, "torch": torch.__version__},
        "machine": machine(),
        "command": command,
    }

    def on_epoch_end(epoch: int) -> None:
        if epoch % probe.score_every and epoch != probe.epochs:
            return
        # evaluate() scores in eval mode and gives the model back in train mode
        row = {"epoch": epoch, "seconds": round(time.perf_counter() - start, 1), **_scores(model, data, norm)}
        curve.append(row)
        best = max(curve, key=lambda r: r["validation_accuracy"])
        result.update(
            curve=curve,
            best_on_validation=best,
            final=row,
            test_gain_points=round(100 * (best["test_accuracy"] - baseline["test_accuracy"]), 2),
            finished=epoch == probe.epochs,
        )
        write_text(out, json.dumps(result, indent=2) + "\n")
        logger.info("epoch %d/%d: %s (%.0f s)", epoch, probe.epochs, row, row["seconds"])

    # weight 0 is the control: the same continuation on the labels alone
    hooks = TrainHooks(on_epoch_end=on_epoch_end)
    train_semi_supervised(model, ground.images, ground.labels, unlabelled, recipe, norm, semi, hooks, seed=probe.seed)
