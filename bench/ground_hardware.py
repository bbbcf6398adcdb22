"""What the ground's computer costs the quickstart: `ground.hardware` from none to a small board.

Runs `simsat run ground.hardware=H` (the quickstart, which refines every aggregated student for
two epochs at the ground) once per profile, as a user would (a fresh process each; the caches
shared), and collects from each run: the simulated seconds a refinement took, the hours the
ground's computer was busy, the updates that waited for it, the aggregations, final and best
accuracy, time to 0.80 / 0.90 and the wall time. The first run (no ground hardware: the ground's
work takes no simulated time) is the baseline. Writes bench/results/ground_hardware.json.

    python bench/ground_hardware.py
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

from simsat.machine import machine

# the `simsat` command of this interpreter's environment (the one `pip install -e .` made)
SIMSAT = str(Path(sys.executable).with_name("simsat"))
RESULTS = Path(__file__).resolve().parent / "results" / "ground_hardware.json"
# fastest first; "" is the default (no simulated time at the ground)
PROFILES = ("", "jetson_orin_nano", "raspberry_pi4", "zynq7020_obc")


def _events(folder: Path, kind: str) -> list[dict]:
    with (folder / "events.jsonl").open(encoding="utf-8") as lines:
        return [e for e in map(json.loads, lines) if e["kind"] == kind]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="simsat-ground-hardware-"))
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0"}
    rows = []
    for profile in PROFILES:
        command = [
            SIMSAT,
            "run",
            f"ground.hardware={profile}",
            f"run.output_dir={work / 'runs'}",
            f"data.cache_dir={work / 'cache'}",
            "run.progress=false",
        ]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        folder = Path(done.stdout.strip().splitlines()[-1])
        summary = json.loads((folder / "summary.json").read_text())
        refines = _events(folder, "ground_refine")
        seconds = [e["compute_s"] for e in refines if "compute_s" in e]
        rows.append(
            {
                "ground_hardware": profile or None,
                "command": " ".join(["simsat", *command[1:3]]),
                "refinements": len(refines),
                "refinement_compute_s": round(sum(seconds) / len(seconds), 1) if seconds else 0.0,
                "ground_busy_hours": summary.get("ground_computer", {}).get("busy_hours", 0.0),
                "updates_waited": len(_events(folder, "update_waits")),
                "aggregations": summary["aggregations"],
                "final_accuracy": summary["accuracy"]["final"],
                "best_accuracy": summary["accuracy"]["best"],
                "time_to_accuracy_hours": summary["time_to_accuracy_hours"],
                "wall_seconds": round(time.perf_counter() - start, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    result = {
        "scenario": "quickstart",
        "runs": rows,
        "machine": machine(),
        "command": " ".join(["python", "bench/ground_hardware.py", *sys.argv[1:]]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
