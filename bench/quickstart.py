"""The default mission, timed, against its non-federated baselines on the same data.

1. `quickstart` with an empty teacher cache (what a fresh machine runs), then again with the cache
   warm (same seed: the same metrics.csv).
2. Baselines, all from the same assembled mission (simsat.assembly), so data, teachers and the
   student recipe are the run's own:
   - ground-only: the student trained at the ground on its labelled images (the run's reference);
   - central KD: the student distilled by the ground on every satellite image, as if all of them
     had been downlinked (no links, no orbits, no aggregation): what the federation could at best
     reach with these teachers.
Writes bench/results/quickstart.json with the machine, versions and command.

    python bench/quickstart.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from simsat.assembly import assemble
from simsat.config.load import load_config
from simsat.runner import run_scenario
from simsat.summary import machine

RESULTS = Path(__file__).resolve().parent / "results" / "quickstart.json"


def timed_run(overrides: list[str]) -> tuple[float, Path, dict]:
    start = time.perf_counter()
    folder = run_scenario(load_config("quickstart", overrides))
    wall = time.perf_counter() - start
    return wall, folder, json.loads((folder / "summary.json").read_text())


def central_kd(overrides: list[str]) -> float:
    config = load_config("quickstart", overrides)
    torch.set_num_threads(config.run.threads)
    with assemble(config) as mission:
        images = np.concatenate([s.images for s in mission.data.satellites])
        ids = np.concatenate([s.ids for s in mission.data.satellites])
        knowledge = mission.label(images, ids)
        order = np.argsort(ids)
        rows = order[np.searchsorted(ids[order], knowledge.ids)]
        student = mission.train_at_ground(mission.initial_model, images[rows], knowledge)
        return round(mission.score(student)["accuracy"], 4)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="simsat-bench-"))
    overrides = [f"run.output_dir={work / 'runs'}", f"data.cache_dir={work / 'cache'}", "run.progress=false"]
    try:
        cold_wall, cold_folder, cold = timed_run(overrides)
        warm_wall, warm_folder, warm = timed_run(overrides)
        same = (cold_folder / "metrics.csv").read_bytes() == (warm_folder / "metrics.csv").read_bytes()
        central = central_kd(overrides)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    federated = cold["accuracy"]["final"]
    ground_only = cold["reference"]["ground_only_accuracy"]
    result = {
        "scenario": "quickstart",
        "wall_seconds_cold_cache": round(cold_wall, 1),
        "wall_seconds_warm_cache": round(warm_wall, 1),
        "same_metrics_twice": same,
        "accuracy": cold["accuracy"],
        "time_to_accuracy_hours": cold["time_to_accuracy_hours"],
        "aggregations": cold["aggregations"],
        "bytes": cold["bytes"],
        "wall": cold["wall"],
        "baselines": {
            "ground_only": ground_only,
            "central_kd_on_every_satellite_image": central,
            "teachers": cold["reference"]["teachers"],
        },
        "ratios": {
            "federated_over_ground_only": round(federated / ground_only, 3),
            "federated_over_central_kd": round(federated / central, 3),
        },
        "machine": machine(),
        "command": " ".join(["python", "bench/quickstart.py", *sys.argv[1:]]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
