"""Test-time augmentation of the committed best students: one view against the mean of 8.

    python bench/eurosat_views.py            # writes bench/results/eurosat_views.json

Reads bench/results/eurosat_kd.json (its best students, their files and the input normalization)
and evaluates each best student on validation and test, on the image alone and with its softmax
averaged over the 8 flips/rotations of the image (what the teachers' "8 views" figures are). The
8-view figure costs 8 forward passes per image: its FLOPs, latency and energy per image are 8x
those of the efficiency table, so it is reported beside the plain figure, never instead of it.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

import torch

from simsat.cli.distill import load_experiment
from simsat.experiment.central import environment
from simsat.experiment.data import load_experiment_data
from simsat.experiment.views import probabilities_scores, view_count, view_probabilities
from simsat.models.inputs import Normalization
from simsat.models.registry import create_student
from simsat.results.atomic import write_json

logger = logging.getLogger("bench.eurosat_views")
HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--summary", default=str(HERE / "results" / "eurosat_kd.json"))
    p.add_argument("--data", default=str(HERE.parent / ".." / "shared" / "data" / "eurosat_rgb"))
    p.add_argument("--splits", default=str(HERE.parent / ".." / "shared" / "data" / "eurosat_splits"))
    p.add_argument("--cache", default=str(HERE.parent / ".simsat_cache"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(HERE / "results" / "eurosat_views.json"))
    return p.parse_args(argv)


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


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    summary_path = Path(args.summary)
    if not summary_path.is_file():
        raise SystemExit(f"{summary_path}: no summary; run bench/eurosat_kd.py first")
    summary = json.loads(summary_path.read_text())
    cfg = load_experiment(
        [
            f"experiment={summary['experiment']}",
            f"data.path={args.data}",
            f"data.split_dir={args.splits}",
            f"data.cache_dir={args.cache}",
            "progress=false",
        ]
    )
    data = load_experiment_data(cfg.data, cfg.seed)
    norm = Normalization.from_images(data.train.images)
    if norm.as_dict() != summary["normalize"]:
        raise SystemExit(f"{summary_path}: its normalize differs from this data's training split")
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
            raise SystemExit(
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
        "command": shlex.join(["python", "bench/eurosat_views.py", *(sys.argv[1:] if argv is None else argv)]),
        "summary": summary_path.name,
        "note": "'<split>_views' is the mean softmax over the 8 flips/rotations of each image: 8 forward passes, "
        "so 8x the FLOPs, latency and energy per image of the efficiency table (cost_per_image_views)",
        "students": students,
        "environment": environment(),
    }
    write_json(Path(args.out), result)
    print(json.dumps({k: {s: round(v[s]["accuracy"], 4) for s in ("test", "test_views")} for k, v in students.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
