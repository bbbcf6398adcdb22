"""Can the FixMatch-style term lift a 10 %-label EuroSAT student toward 95 %? A central probe.

No federation and no simulated time: the federated EuroSAT mission's ground set (10 % of the
train split, stratified, seed 0; 1,890 labels) and its satellites' 17,010 unlabelled images, all
in one place. The baseline, in the same run, is the mission's teacher (ResNet8, 60 epochs, peak lr
1e-2 on the labels alone, loaded from or trained into the mission's teacher cache). The probe then
continues training that model with cross-entropy on the labels plus `simsat.distill.semi`'s
consistency term on the unlabelled images (`--ratio` unlabelled per labelled image in each batch,
confidence `--threshold`), and scores validation and test after every `--score-every` epochs.
`--weight 0` is the control: the same continuation on the labels alone, so a gain can be told
apart from the longer schedule. `--unlabelled-fraction` keeps a random share of the unlabelled
images (0.2: about what the ground receives at the mission's default imagery fraction), so the
same probe says what the term is worth at the ground and with every image.

Writes `--out` (default bench/results/central_semi.json) after every score, so a stopped probe
keeps what it measured: the baseline, the curve, the best-on-validation epoch, its test gain in
points over the baseline, machine, versions and the command.

    python bench/central_semi.py --data ../shared/data/eurosat_rgb --splits ../shared/data/eurosat_splits
    python bench/central_semi.py --data ... --splits ... --unlabelled-fraction 0.2 --out /tmp/semi20.json
    python bench/central_semi.py --data ... --splits ... --weight 0 --out /tmp/control.json
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import simsat
from simsat.data import MissionData, load_eurosat_splits, split_mission_from_splits
from simsat.distill.recipe import TrainRecipe
from simsat.distill.semi import SemiSupervised, train_semi_supervised
from simsat.distill.teacher_cache import TeacherSpec, train_or_load_teachers
from simsat.distill.train import TrainHooks, evaluate
from simsat.models.inputs import Normalization
from simsat.results.atomic import write_text
from simsat.summary import machine

RESULTS = Path(__file__).resolve().parent / "results" / "central_semi.json"
TEACHER = TeacherSpec("resnet8", 64, 60, 0.01, 64)  # simsat/scenarios/federated_eurosat.yaml's teacher
logger = logging.getLogger("central_semi")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="EuroSAT RGB folder")
    p.add_argument("--splits", required=True, help="split folder (train/validation/test.csv)")
    p.add_argument("--cache", default=".simsat_cache", help="decoded images and the teacher cache")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--epochs", type=int, default=30, help="epochs over the labelled images")
    p.add_argument("--lr", type=float, default=3e-3, help="one-cycle peak lr of the continuation")
    p.add_argument("--ratio", type=int, default=7, help="unlabelled images per labelled image in a batch")
    p.add_argument("--threshold", type=float, default=0.95)
    p.add_argument("--weight", type=float, default=1.0)
    p.add_argument("--unlabelled-fraction", type=float, default=1.0)
    p.add_argument("--score-every", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.weight < 0:
        p.error(f"--weight must be >= 0, got {args.weight}")
    if not 0 <= args.threshold <= 1:
        p.error(f"--threshold must be in [0, 1], got {args.threshold}")
    if args.epochs < 1 or args.ratio < 1 or args.score_every < 1:
        p.error("--epochs, --ratio and --score-every must be >= 1")
    if not 0 < args.unlabelled_fraction <= 1:
        p.error(f"--unlabelled-fraction must be in (0, 1], got {args.unlabelled_fraction}")
    for flag in ("data", "splits"):
        if not Path(getattr(args, flag)).is_dir():
            p.error(f"--{flag}: no such folder: {getattr(args, flag)}")
    return args


def _scores(model: nn.Module, data: MissionData, norm: Normalization) -> dict[str, float]:
    out = {}
    for split in ("validation", "test"):
        part = getattr(data, split)
        scores = evaluate(model, part.images, part.labels, norm, len(part.class_names))
        out[f"{split}_accuracy"] = round(scores.accuracy, 4)
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    cache = Path(args.cache)
    parts = load_eurosat_splits(Path(args.data), Path(args.splits), cache / "eurosat")
    data = split_mission_from_splits(parts["train"], parts["validation"], parts["test"], 24, 0.1, "dirichlet", 0.5, 0)
    ground = data.ground
    norm = Normalization.from_images(ground.images)
    unlabelled = np.concatenate([s.images for s in data.satellites])
    rng = np.random.default_rng(args.seed)
    keep = max(1, round(args.unlabelled_fraction * len(unlabelled)))
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

    recipe = TrainRecipe(epochs=args.epochs, batch_size=64, lr=args.lr, schedule="onecycle")
    semi = SemiSupervised(args.weight, args.threshold, args.ratio)
    model = copy.deepcopy(teacher)
    curve: list[dict] = []
    start = time.perf_counter()
    result: dict = {
        "question": __doc__.splitlines()[0],
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
            "epochs": args.epochs,
            "lr": args.lr,
            "schedule": "onecycle",
            "batch_size": 64,
            "ratio": args.ratio,
            "threshold": args.threshold,
            "weight": args.weight,
            "seed": args.seed,
        },
        "normalize": {"mean": [round(float(m), 6) for m in norm.mean], "std": [round(float(s), 6) for s in norm.std]},
        "versions": {"simsat": simsat.__version__, "torch": torch.__version__},
        "machine": machine(),
        "command": " ".join(["python", "bench/central_semi.py", *(argv if argv is not None else sys.argv[1:])]),
    }

    def on_epoch_end(epoch: int) -> None:
        if epoch % args.score_every and epoch != args.epochs:
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
            finished=epoch == args.epochs,
        )
        write_text(Path(args.out), json.dumps(result, indent=2) + "\n")
        logger.info("epoch %d/%d: %s (%.0f s)", epoch, args.epochs, row, row["seconds"])

    # --weight 0 is the control: the same continuation on the labels alone
    hooks = TrainHooks(on_epoch_end=on_epoch_end)
    train_semi_supervised(model, ground.images, ground.labels, unlabelled, recipe, norm, semi, hooks, seed=args.seed)


if __name__ == "__main__":
    main()
