"""Which teachers should the federated EuroSAT mission's ground train on its 1,890 labels?

Builds the ground's labelled set exactly as `simsat/scenarios/federated_eurosat.yaml` does (10 % of the
train split, stratified, seed 0), trains each candidate teacher through the mission's teacher
cache (so a mission with the same data, seed and cache folder reuses them), and scores every
teacher and every pair (mean of the two softmaxes) on validation (the choice) and test (report).
Writes bench/results/federated_eurosat_teachers.json.

    python bench/federated_eurosat_teachers.py --data ../shared/data/eurosat_rgb \
        --splits ../shared/data/eurosat_splits [--cache .simsat_cache] [--only resnet8:30:0.01,...]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

import simsat
from simsat.data import load_eurosat_splits, split_mission_from_splits
from simsat.distill.teacher_cache import TeacherSpec, train_or_load_teachers
from simsat.distill.train import evaluate, predict_logits
from simsat.models.inputs import Normalization
from simsat.summary import machine

RESULTS = Path(__file__).resolve().parent / "results" / "federated_eurosat_teachers.json"
# name:epochs:lr -- the scenario's former defaults first, then the CNNs at the tuned peak lr
CANDIDATES = (
    "efficientvit_b0:5:0.002",
    "resnet8:30:0.01",
    "mobilevit_xxs:5:0.002",
    "resnet16:30:0.01",
)


def _spec(text: str) -> TeacherSpec:
    name, epochs, lr = text.split(":")
    return TeacherSpec(name, 64, int(epochs), float(lr), 64)


def _accuracy(probs: torch.Tensor, labels: np.ndarray) -> float:
    return round(float((probs.argmax(1).numpy() == labels).mean()), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--splits", required=True)
    parser.add_argument("--cache", default=".simsat_cache")
    parser.add_argument("--only", default=",".join(CANDIDATES))
    parser.add_argument("--out", default=str(RESULTS), help="the JSON to write")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--satellites", type=int, default=24)
    parser.add_argument("--alpha", type=float, default=0.5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    cache = Path(args.cache)
    parts = load_eurosat_splits(Path(args.data), Path(args.splits), cache / "eurosat")
    data = split_mission_from_splits(
        parts["train"], parts["validation"], parts["test"], args.satellites, 0.1, "dirichlet", args.alpha, args.seed
    )
    ground = data.ground
    norm = Normalization.from_images(ground.images)
    rows: list[dict] = []
    probs: dict[tuple[str, str], torch.Tensor] = {}
    for text in args.only.split(","):
        spec = _spec(text)
        start = time.perf_counter()
        ((model, meta),) = train_or_load_teachers(
            [spec], ground.images, ground.labels, norm, 10, ground.fingerprint(), cache / "teachers", args.seed
        )
        seconds = time.perf_counter() - start
        row = {"teacher": text, "name": spec.name, "epochs": spec.epochs, "lr": spec.lr, "input_size": 64}
        for split in ("validation", "test"):
            part = getattr(data, split)
            scores = evaluate(model, part.images, part.labels, norm, 10).as_dict()
            row[f"{split}_accuracy"] = round(scores["accuracy"], 4)
            probs[(text, split)] = torch.softmax(predict_logits(model, part.images, norm), 1)
        row["train_seconds"] = meta.get("train_seconds") or (meta.get("training") or {}).get("seconds")
        row["wall_seconds"] = round(seconds, 1)
        row["cache_file"] = Path(meta["cache_file"]).name
        rows.append(row)
        print(json.dumps(row), flush=True)
        _write(rows, probs, data, norm, args)  # after every teacher: a stopped probe keeps what it measured


def _write(rows: list[dict], probs: dict, data: object, norm: Normalization, args: argparse.Namespace) -> None:
    ground = data.ground  # type: ignore[attr-defined]
    pairs = []
    for a, b in itertools.combinations([r["teacher"] for r in rows], 2):
        pair = {"teachers": [a, b]}
        for split in ("validation", "test"):
            pair[f"{split}_accuracy"] = _accuracy(
                (probs[(a, split)] + probs[(b, split)]) / 2, getattr(data, split).labels
            )
        pairs.append(pair)
    pairs.sort(key=lambda p: -p["validation_accuracy"])
    result = {
        "ground_images": len(ground),
        "seed": args.seed,
        "normalize": {"mean": [round(float(m), 6) for m in norm.mean], "std": [round(float(s), 6) for s in norm.std]},
        "teachers": rows,
        "pairs_mean_softmax": pairs,
        "versions": {"simsat": simsat.__version__, "torch": torch.__version__},
        "machine": machine(),
        "command": " ".join(["python", "bench/federated_eurosat_teachers.py", *sys.argv[1:]]),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
