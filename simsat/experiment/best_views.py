"""Test-time augmentation of an eurosat_kd.json summary's best students: one view against the mean of 8.

Evaluates each best student on validation and test, on the image alone and with its softmax
averaged over the 8 flips/rotations of the image (what the teachers' "8 views" figures are). The
8-view figure costs 8 forward passes per image: its FLOPs, latency and energy per image are 8x
those of the efficiency table, so it is reported beside the plain figure, never instead of it.
bench/eurosat_views.py is its command line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from simsat.config.experiment import ExperimentConfig
from simsat.errors import SimsatError
from simsat.experiment.central import environment
from simsat.experiment.data import load_experiment_data
from simsat.experiment.views import probabilities_scores, view_count, view_probabilities
from simsat.models.inputs import Normalization
from simsat.models.registry import create_student

logger = logging.getLogger(__name__)


def evaluate_student(
    model: torch.nn.Module, splits: dict[str, Any], norm: Normalization, n_views: int, num_classes: int
) -> dict[str, Any]:
    """Plain and n-view-mean metrics of one student on every split."""
    out: dict[str, Any] = {}
    for split, images in splits.items():
        probs = view_probabilities([model], images.images, norm, n_views)[0]  # (n_views, N, C)
        out[split] = probabilities_scores(probs[0], images.labels, num_classes).as_dict()
        out[f"{split}_views"] = probabilities_scores(probs.mean(dim=0), images.labels, num_classes).as_dict()
    return out


def best_students_views(
    summary_path: Path,
    data_dir: str,
    splits_dir: str,
    cache: str,
    command: str,
    load: Callable[[Sequence[str]], ExperimentConfig],
) -> dict[str, Any]:
    """The plain and 8-view scores of the summary's best students (SimsatError where they disagree with it).

    `load` composes experiment=NAME and key=value items into a validated config
    (simsat.cli.distill.load_experiment)."""
    if not summary_path.is_file():
        raise SimsatError(f"{summary_path}: no summary; run bench/eurosat_kd.py first")
    summary = json.loads(summary_path.read_text())
    cfg = load(
        [
            f"experiment={summary['experiment']}",
            f"data.path={data_dir}",
            f"data.split_dir={splits_dir}",
            f"data.cache_dir={cache}",
            "progress=false",
        ]
    )
    data = load_experiment_data(cfg.data, cfg.seed)
    norm = Normalization.from_images(data.train.images)
    if norm.as_dict() != summary["normalize"]:
        raise SimsatError(f"{summary_path}: its normalize differs from this data's training split")
    height, width = data.train.images.shape[1:3]
    n_views = view_count(height, width, augment=True)
    splits = {"validation": data.validation, "test": data.test}
    energy = {m["name"]: m for m in summary["efficiency"]["models"] if m["role"] == "student"}
    students: dict[str, Any] = {}
    for name, best in summary["best_students"].items():
        weights = summary_path.parent / best["file"]
        model = create_student(name, data.num_classes)
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        model.eval()
        scores = evaluate_student(model, splits, norm, n_views, data.num_classes)
        if abs(scores["test"]["accuracy"] - best["test_accuracy"]) > 1e-9:
            raise SimsatError(
                f"{weights}: test accuracy {scores['test']['accuracy']:.4f} is not the summary's "
                f"{best['test_accuracy']:.4f}"
            )
        per_image = energy.get(name, {})
        students[name] = {
            **{k: best[k] for k in ("file", "experiment", "piece", "rule", "seed", "epochs")},
            **scores,
            "views": n_views,
            "cost_per_image_views": {
                k: n_views * per_image[k] for k in ("flops", "energy_j", "latency_ms_per_image_b64") if k in per_image
            },
        }
        logger.info(
            "%s: test %.4f, %.4f over %d views; validation %.4f, %.4f over views",
            name,
            scores["test"]["accuracy"],
            scores["test_views"]["accuracy"],
            n_views,
            scores["validation"]["accuracy"],
            scores["validation_views"]["accuracy"],
        )
    result = {
        "command": command,
        "summary": summary_path.name,
        "note": "'<split>_views' is the mean softmax over the 8 flips/rotations of each image: 8 forward passes, "
        "so 8x the FLOPs, latency and energy per image of the efficiency table (cost_per_image_views)",
        "students": students,
        "environment": environment(),
    }
    return result
