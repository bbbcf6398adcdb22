"""Every strategy and aggregation rule on the quickstart, each from the command line.

Runs `simsat run federation.strategy=S federation.aggregation=A ...` as a user would (a fresh
process each; the teacher cache shared) and collects from each summary: final and best accuracy,
time to 0.80 / 0.90 / 0.95, the ground-only reference, bytes by kind and wall time.
Writes bench/results/strategies.json.

    python bench/strategies.py [--hours H]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simsat.summary import machine

# the `simsat` command of this interpreter's environment (the one `pip install -e .` made)
SIMSAT = str(Path(sys.executable).with_name("simsat"))
RESULTS = Path(__file__).resolve().parent / "results" / "strategies.json"
RUNS: list[tuple[str, str, tuple[str, ...]]] = [
    ("fedkd", "fedbuff", ()),  # the quickstart as it ships (first: its wall time is the cold-cache one)
    ("fedkd", "fedbuff", ("federation.ground_refine_epochs=0",)),  # without the ground's refinement
    ("fedkd", "fedasync", ()),
    ("fedkd", "sync", ()),
    ("ground", "fedasync", ()),
    ("fedavg_labels", "fedasync", ()),
    ("local", "fedasync", ()),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=0.0, help="mission.duration_hours (0: the scenario's)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="simsat-strategies-"))
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0"}
    rows = []
    for strategy, aggregation, extra in RUNS:
        command = [
            SIMSAT,
            "run",
            f"federation.strategy={strategy}",
            f"federation.aggregation={aggregation}",
            *extra,
            f"run.output_dir={work / 'runs'}",
            f"data.cache_dir={work / 'cache'}",
            "run.progress=false",
        ]
        if args.hours:
            command.append(f"mission.duration_hours={args.hours}")
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        folder = Path(done.stdout.strip().splitlines()[-1])
        summary = json.loads((folder / "summary.json").read_text())
        rows.append(
            {
                "strategy": strategy,
                "aggregation": aggregation,
                "overrides": list(extra),
                "command": " ".join(["simsat", *command[1 : 4 + len(extra)]]),
                "final_accuracy": summary["accuracy"]["final"],
                "best_accuracy": summary["accuracy"]["best"],
                "time_to_accuracy_hours": summary["time_to_accuracy_hours"],
                "ground_only_accuracy": summary["reference"]["ground_only_accuracy"],
                "aggregations": summary["aggregations"],
                "bytes": summary["bytes"],
                "wall_seconds": round(time.perf_counter() - start, 1),
                "run_folder_mb": round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 2),
                # peak resident memory of the largest simsat process so far (Ray workers not included)
                "peak_rss_mb_so_far": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    result = {
        "scenario": "quickstart",
        "runs": rows,
        "machine": machine(),
        "command": " ".join(["python", "bench/strategies.py", *sys.argv[1:]]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
