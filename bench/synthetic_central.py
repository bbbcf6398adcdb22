"""How hard is the synthetic dataset? Central (non-federated) accuracies on a held-out test set.

Trains, on the same seeded test set of the synthetic data:
- a colour-statistics baseline (multinomial logistic regression on per-channel mean and std),
- ResNet8 with plain cross-entropy at several training-set sizes and epoch counts,
and writes bench/results/synthetic_central.json with the machine, versions and command.

    python bench/synthetic_central.py            # ~5 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import simsat
from simsat.data import generate_synthetic
from simsat.distill.recipe import TrainRecipe
from simsat.distill.train import evaluate, train_supervised
from simsat.models.inputs import Normalization
from simsat.models.registry import create_student

RESULTS = Path(__file__).resolve().parent / "results" / "synthetic_central.json"


def colour_baseline(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> float:
    def features(x: np.ndarray) -> torch.Tensor:
        flat = x.reshape(len(x), -1, 3).astype(np.float32)
        return torch.from_numpy(np.concatenate([flat.mean(1), flat.std(1)], axis=1))

    f_train, f_test = features(train_x), features(test_x)
    mean, std = f_train.mean(0), f_train.std(0)
    f_train, f_test = (f_train - mean) / std, (f_test - mean) / std
    torch.manual_seed(0)
    model = torch.nn.Linear(6, 10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    labels = torch.from_numpy(train_y)
    for _ in range(1000):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(f_train), labels).backward()
        opt.step()
    return float((model(f_test).argmax(1).numpy() == test_y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--runs", default="2000:2,10000:8", help="train_size:epochs,...")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    runs = [tuple(int(v) for v in item.split(":")) for item in args.runs.split(",")]
    largest = max(n for n, _ in runs)
    start = time.perf_counter()
    train_x, train_y = generate_synthetic(largest, seed=1)
    test_x, test_y = generate_synthetic(args.test_size, seed=2)
    generation_s = time.perf_counter() - start
    norm = Normalization.from_images(train_x)

    results = {
        "colour_logistic_regression": {
            "train_size": largest,
            "test_accuracy": colour_baseline(train_x, train_y, test_x, test_y),
        },
        "resnet8": [],
        "generation_images_per_s": round((largest + args.test_size) / generation_s, 1),
    }
    for n, epochs in runs:
        torch.manual_seed(0)
        model = create_student("resnet8", 10)
        config = TrainRecipe(epochs=epochs, batch_size=64, lr=2e-3, schedule="onecycle")
        stats = train_supervised(model, train_x[:n], train_y[:n], config, norm, seed=0)
        score = evaluate(model, test_x, test_y, norm, 10)
        results["resnet8"].append(
            {
                "train_size": n,
                "epochs": epochs,
                "test_accuracy": round(score.accuracy, 4),
                "macro_f1": round(score.f1, 4),
                "train_seconds": round(stats.seconds, 1),
                "images_per_s": round(stats.images_per_s, 1),
            }
        )
        print(json.dumps(results["resnet8"][-1]), flush=True)
    results["machine"] = {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "threads": args.threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "simsat": simsat.__version__,
    }
    results["command"] = " ".join(["python", "bench/synthetic_central.py", *sys.argv[1:]])
    results["test"] = {"size": args.test_size, "seed": 2, "train_seed": 1}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(RESULTS)


if __name__ == "__main__":
    main()
