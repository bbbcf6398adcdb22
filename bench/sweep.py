"""A sweep of N small runs (seed=1..N, one torch thread each) against the same N runs one after another.

Serial: `simsat run SCENARIO seed=i ...` for i = 1..N, each a fresh process, as a user would run
them (Flower's simulation engine on a local Ray started by each run). Sweep: one
`simsat sweep SCENARIO seed=1,...,N ...` on a local Ray of `--cpus` CPUs, each run a Ray task of
one CPU. Each side starts from its own empty teacher cache, so both do the same work. Checks that
every run's metrics.csv is the same both ways, and writes the machine, versions, command, both
wall times and their ratio to --out (default bench/results/sweep.json). The load average before
and after is recorded: other work on the cores makes the ratio meaningless.

    python bench/sweep.py                                   # 8 runs of scenario tiny (the measurement)
    python bench/sweep.py --runs 2 --out /tmp/sweep.json mission.duration_hours=3   # a quick check
    python bench/sweep.py --in-process-baseline     # also the runs one after another without Ray

Much of the sweep's gain on small runs is the local Ray each `simsat run` starts; with
--in-process-baseline the same runs are also timed one after another on the sweep's own engine
(run.engine=in_process), which isolates the gain of running them side by side.

The scenario is `tiny` (2 satellites, 600 synthetic images, two teachers of one epoch) for 6
simulated hours (6 aggregations) with `reference.epochs=0`, `run.threads=1` and
`training.threads=1`: about a minute per `simsat run` on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from simsat.machine import machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "sweep.json"
FIXED = ["mission.duration_hours=6", "reference.epochs=0", "run.threads=1", "training.threads=1", "run.progress=false"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="tiny")
    p.add_argument("--runs", type=int, default=8)
    p.add_argument("--cpus", type=int, default=2, help="CPUs of the sweep's local Ray (ray.num_cpus)")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument(
        "--in-process-baseline",
        action="store_true",
        help="also time the runs one after another with run.engine=in_process (the sweep's engine, no Ray)",
    )
    p.add_argument("overrides", nargs="*", help="more key=value overrides for every run")
    return p.parse_args(argv)


def simsat(args: list[str], env: dict[str, str]) -> tuple[float, Path]:
    """Run the simsat command; (wall seconds, the folder it printed last)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "simsat.cli.main", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"simsat {shlex.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, Path(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(["python", "bench/sweep.py", *(sys.argv[1:] if argv is None else argv)])
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    seeds = list(range(1, args.runs + 1))
    given = {item.split("=", 1)[0] for item in args.overrides}
    common = [f"scenario={args.scenario}", *(f for f in FIXED if f.split("=", 1)[0] not in given), *args.overrides]
    work = Path(tempfile.mkdtemp(prefix="simsat-sweep-bench-"))
    load_before = os.getloadavg()
    try:
        serial_walls: dict[int, float] = {}
        serial_folders: dict[int, Path] = {}
        for seed in seeds:
            wall, folder = simsat(
                ["run", *common, f"seed={seed}", f"run.output_dir={work / 'serial'}", f"data.cache_dir={work / 'c1'}"],
                env,
            )
            serial_walls[seed], serial_folders[seed] = round(wall, 1), folder
            print(f"serial run seed={seed}: {wall:.1f} s", file=sys.stderr)
        in_process_walls: dict[int, float] = {}
        if args.in_process_baseline:
            for seed in seeds:
                wall, _ = simsat(
                    ["run", *common, f"seed={seed}", "run.engine=in_process"]
                    + [f"run.output_dir={work / 'serial_in_process'}", f"data.cache_dir={work / 'c3'}"],
                    env,
                )
                in_process_walls[seed] = round(wall, 1)
                print(f"serial in-process run seed={seed}: {wall:.1f} s", file=sys.stderr)
        sweep_items = [
            "sweep",
            *common,
            f"seed={','.join(map(str, seeds))}",
            f"ray.num_cpus={args.cpus}",
            "sweep.run_cpus=1",
            f"sweep.output_dir={work / 'sweeps'}",
            f"data.cache_dir={work / 'c2'}",
        ]
        sweep_wall, sweep_folder = simsat(sweep_items, env)
        print(f"sweep: {sweep_wall:.1f} s", file=sys.stderr)
        with (sweep_folder / "runs.csv").open(newline="") as handle:
            rows = dict(zip(seeds, csv.DictReader(handle), strict=True))  # runs.csv is in grid order
        same = {
            seed: rows[seed]["status"] == "done"
            and (serial_folders[seed] / "metrics.csv").read_bytes()
            == (sweep_folder / rows[seed]["run_folder"] / "metrics.csv").read_bytes()
            for seed in seeds
        }
    finally:
        load_after = os.getloadavg()
        shutil.rmtree(work, ignore_errors=True)
    serial_wall = sum(serial_walls.values())
    result: dict[str, Any] = {
        "scenario": args.scenario,
        "runs": args.runs,
        "overrides": common[1:],
        "serial_wall_seconds": round(serial_wall, 1),
        "serial_run_wall_seconds": serial_walls,
        "sweep_wall_seconds": round(sweep_wall, 1),
        "sweep_over_serial_speedup": round(serial_wall / sweep_wall, 3),
        "serial_in_process_wall_seconds": round(sum(in_process_walls.values()), 1) if in_process_walls else None,
        "sweep_over_serial_in_process_speedup": round(sum(in_process_walls.values()) / sweep_wall, 3)
        if in_process_walls
        else None,
        "sweep_run_wall_seconds": {seed: float(rows[seed]["wall_s"]) for seed in seeds},
        "sweep_ray_cpus": args.cpus,
        "sweep_run_cpus": 1,
        "sweep_engine": "in_process (each run a Ray task; see simsat/sweep/__init__.py)",
        "serial_engine": "flower (simsat run's default: a local Ray per run)",
        "identical_metrics_csv": all(same.values()),
        "identical_metrics_csv_per_seed": same,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "machine": machine(),
        "command": command,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["identical_metrics_csv"] else 1


if __name__ == "__main__":
    sys.exit(main())
