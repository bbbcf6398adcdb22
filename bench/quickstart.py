"""The default mission, timed, against two non-federated baselines on the same data.

1. `quickstart` with an empty teacher cache (what a fresh machine runs), then again with the cache warm.
2. Baselines on the same split, teachers and student recipe:
   - ground-only: ResNet8 trained at the ground on its labelled images (no satellites at all);
   - central KD: ResNet8 distilled from the same teachers' soft labels on all satellites' images
     pooled in one place (no links, no orbits, no FedAvg): what the federation could at best reach.
Writes bench/results/quickstart.json with the machine, versions and command.

    python bench/quickstart.py        # ~7 min on 2 cores
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import simsat
from simsat.config.load import load_config
from simsat.distill.teacher_cache import TeacherSpec, train_or_load_teachers
from simsat.distill.train import TrainConfig, evaluate, train_distill, train_supervised
from simsat.mission.knowledge import knowledge_packet, teacher_logits, training_knowledge
from simsat.models.inputs import Normalization
from simsat.models.registry import create_student
from simsat.runner import load_mission_data, run_scenario

RESULTS = Path(__file__).resolve().parent / "results" / "quickstart.json"


def timed_run(overrides: list[str]) -> tuple[float, dict]:
    start = time.perf_counter()
    folder = run_scenario(load_config("quickstart", overrides))
    wall = time.perf_counter() - start
    return wall, json.loads((folder / "summary.json").read_text())


def baselines(overrides: list[str], epochs: int) -> dict[str, float]:
    config = load_config("quickstart", overrides)
    torch.set_num_threads(config.run.threads)
    data = load_mission_data(config)
    norm = Normalization.from_images(data.ground.images)
    specs = [TeacherSpec(t.name, t.input_size, t.epochs, t.lr, t.batch_size) for t in config.distill.teachers]
    teachers = [
        t
        for t, _ in train_or_load_teachers(
            specs, data.ground.images, data.ground.labels, norm, 10, data.ground.fingerprint(),
            Path(config.data.cache_dir) / "teachers", config.seed,
        )
    ]
    recipe = TrainConfig(epochs=epochs, batch_size=64, lr=config.training.lr, seed=config.seed)

    torch.manual_seed(config.seed)
    ground_only = create_student("resnet8", 10)
    train_supervised(ground_only, data.ground.images, data.ground.labels, recipe, norm)

    images = np.concatenate([s.images for s in data.satellites])
    ids = np.concatenate([s.ids for s in data.satellites])
    packet = knowledge_packet(teacher_logits(teachers, images, norm), ids, config.distill.weighting,
                              config.distill.temperature)
    order = np.argsort(ids)
    rows = order[np.searchsorted(ids[order], packet.ids)]
    knowledge = training_knowledge(packet)
    torch.manual_seed(config.seed)
    central = create_student("resnet8", 10)
    train_distill(central, images[rows], knowledge, None, config.distill.temperature, recipe, norm)

    def acc(model: torch.nn.Module) -> float:
        return round(evaluate(model, data.test.images, data.test.labels, norm, 10).accuracy, 4)

    return {
        "ground_only_supervised": acc(ground_only),
        "central_kd_on_satellite_images": acc(central),
        "teachers": [acc(t) for t in teachers],
        "epochs": epochs,
    }


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="simsat-bench-"))
    overrides = [f"run.output_dir={work / 'runs'}", f"data.cache_dir={work / 'cache'}", "run.progress=false"]
    try:
        cold_wall, cold = timed_run(overrides)
        warm_wall, warm = timed_run(overrides)
        base = baselines(overrides, epochs=8)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    federated = cold["final_accuracy"]
    result = {
        "scenario": "quickstart",
        "wall_seconds_cold_cache": round(cold_wall, 1),
        "wall_seconds_warm_cache": round(warm_wall, 1),
        "initial_accuracy": cold["initial_accuracy"],
        "final_accuracy": federated,
        "best_accuracy": cold["best_accuracy"],
        "same_result_twice": cold["final_accuracy"] == warm["final_accuracy"],
        "aggregations": cold["aggregations"],
        "bytes_up": cold["bytes_up"],
        "bytes_down": cold["bytes_down"],
        "baselines": base,
        "ratios": {
            "federated_over_central_kd": round(federated / base["central_kd_on_satellite_images"], 3),
            "federated_over_ground_only": round(federated / base["ground_only_supervised"], 3),
        },
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "simsat": simsat.__version__,
        },
        "command": " ".join(["python", "bench/quickstart.py", *sys.argv[1:]]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
