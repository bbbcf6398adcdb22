"""The default mission, timed as a user runs it, against its non-federated baselines on the same data.

1. `simsat run` (a fresh process, as from a fresh clone) with an empty teacher cache, then again with the
   cache warm (same seed: the same metrics.csv).
2. Baselines, all from the same assembled mission (simsat.assembly), so data, teachers and the
   student recipe are the run's own:
   - ground-only: the student trained at the ground on its labelled images (the run's reference);
   - all imagery at the ground: the student trained at the ground, `reference.epochs` epochs, on its
     labels plus every satellite image with its teachers' soft labels, as if all of them had been
     downlinked (no links, no orbits, no aggregation).
Writes bench/results/quickstart.json with the machine, versions and command.

    python bench/quickstart.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from simsat.assembly import assemble
from simsat.config.load import load_config
from simsat.summary import machine

# the `simsat` command of this interpreter's environment (the one `pip install -e .` made)
SIMSAT = str(Path(sys.executable).with_name("simsat"))
RESULTS = Path(__file__).resolve().parent / "results" / "quickstart.json"


def timed_run(overrides: list[str]) -> tuple[float, Path, dict]:
    """`simsat run` in a fresh process; wall time from start to exit."""
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0"}
    start = time.perf_counter()
    done = subprocess.run([SIMSAT, "run", *overrides], capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - start
    folder = Path(done.stdout.strip().splitlines()[-1])
    return wall, folder, json.loads((folder / "summary.json").read_text())


def all_imagery_at_ground(overrides: list[str]) -> float:
    config = load_config("quickstart", overrides)
    torch.set_num_threads(config.run.threads)
    with assemble(config) as mission:
        images = np.concatenate([s.images for s in mission.data.satellites])
        ids = np.concatenate([s.ids for s in mission.data.satellites])
        knowledge = mission.learning.label(images, ids)
        order = np.argsort(ids)
        rows = order[np.searchsorted(ids[order], knowledge.ids)]
        student = mission.learning.train_with_labels(
            mission.learning.initial_model, images[rows], knowledge, config.reference.epochs
        )
        return round(mission.learning.score(student)["accuracy"], 4)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="simsat-bench-"))
    overrides = [f"run.output_dir={work / 'runs'}", f"data.cache_dir={work / 'cache'}", "run.progress=false"]
    try:
        cold_wall, cold_folder, cold = timed_run(overrides)
        warm_wall, warm_folder, warm = timed_run(overrides)
        same = (cold_folder / "metrics.csv").read_bytes() == (warm_folder / "metrics.csv").read_bytes()
        central = all_imagery_at_ground(overrides)
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
            "all_imagery_at_ground": central,
            "teachers": cold["reference"]["teachers"],
        },
        "ratios": {
            "federated_over_ground_only": round(federated / ground_only, 3),
            "federated_over_all_imagery_at_ground": round(federated / central, 3),
        },
        "machine": machine(),
        "command": " ".join(["python", "bench/quickstart.py", *sys.argv[1:]]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
