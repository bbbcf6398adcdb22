"""The 1,000-satellite run: wall time and peak memory of the whole process tree.

Runs `simsat run scenario=megaconstellation` as a user would (a fresh process, Ray started by
the run itself) and samples, once a second, the resident memory of that process and of every
process below it (Ray's GCS, raylet and workers included). Writes
bench/results/megaconstellation.json with the wall time, the peak of the summed resident memory,
the peak of the largest single process, the run's own summary figures and the machine.

    python bench/megaconstellation.py [--results FILE] [override ...]   # e.g. mission.duration_hours=1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from simsat.machine import machine

RESULTS = Path(__file__).resolve().parent / "results" / "megaconstellation.json"
LIMIT_GB = 8.0


class TreeMemory:
    """Peak summed RSS of a process and its descendants, sampled every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_total = 0
        self.peak_single = 0
        self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            sizes = []
            for p in procs:
                try:
                    sizes.append(p.memory_info().rss)
                except psutil.NoSuchProcess:
                    continue
            self.samples += 1
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max(self.peak_single, max(sizes, default=0))
            self.peak_processes = max(self.peak_processes, len(sizes))
            self._stop.wait(self.interval)


def main() -> None:
    parser = argparse.ArgumentParser(description="wall time and peak memory of the 1,000-satellite run")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"where the JSON goes (default {RESULTS})")
    parser.add_argument("overrides", nargs="*", help="key=value overrides of the scenario")
    args = parser.parse_args()
    overrides = list(args.overrides)
    work = Path(tempfile.mkdtemp(prefix="simsat-mega-"))
    command = [
        sys.executable,
        "-m",
        "simsat.cli.main",
        "run",
        "scenario=megaconstellation",
        f"run.output_dir={work / 'runs'}",
        f"data.cache_dir={work / 'cache'}",
        "run.progress=false",
        *overrides,
    ]
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0"}
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    with TreeMemory(proc.pid) as memory:
        out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"megaconstellation run failed ({proc.returncode}): {err.strip().splitlines()[-1:]}")
    folder = Path(out.strip().splitlines()[-1])
    summary = json.loads((folder / "summary.json").read_text())
    gb = 1024.0**3
    result = {
        "command": " ".join(["python bench/megaconstellation.py", *sys.argv[1:]]),
        "run_command": "simsat run scenario=megaconstellation " + " ".join(overrides),
        "satellites": summary.get("satellites"),
        "simulated_hours": summary.get("simulated_hours"),
        "wall_seconds": round(wall, 1),
        "peak_memory_gb": round(memory.peak_total / gb, 2),
        "peak_single_process_gb": round(memory.peak_single / gb, 2),
        "peak_processes": memory.peak_processes,
        "memory_samples": memory.samples,
        "within_8_gb": memory.peak_total / gb <= LIMIT_GB,
        "simulated_seconds_per_mission_wall_second": round(
            float(summary.get("simulated_hours", 0.0)) * 3600.0 / max(summary["wall"]["mission_wall_seconds"], 1e-9), 2
        ),
        "contacts": summary.get("contacts"),
        "trainings": summary.get("trainings"),
        "final_accuracy": summary.get("accuracy", {}).get("final"),
        "initial_accuracy": summary.get("accuracy", {}).get("initial"),
        "ground_only_accuracy": (summary.get("reference") or {}).get("ground_only_accuracy"),
        "aggregations": summary.get("aggregations"),
        "wall": summary.get("wall"),
        "bytes": summary.get("bytes"),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
        "python": platform.python_version(),
    }
    args.results.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("wall_seconds", "peak_memory_gb", "final_accuracy")}))


if __name__ == "__main__":
    main()
