"""The engine before and after a change: the same runs on two checkouts, back to back.

Runs, for each checkout (`--before`: a checkout of the baseline commit, e.g. made with
`git worktree add /tmp/before <commit>`; the after: this one), in fresh processes with that
checkout first on PYTHONPATH:

- the quickstart twice in one cache (the second run is the warm one that is reported);
- the 1,000-satellite scenario for one simulated hour.

It writes each run's time split (summary.json `wall`), its contacts, trainings and bytes, the
sha256 of its metrics.csv (the same for both checkouts when the change keeps results), and the
ratios after / before, to bench/results/engine_before_after.json with the machine.

    python bench/engine_before_after.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from simsat.machine import machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "engine_before_after.json"
RUNS = {
    "quickstart": ["scenario=quickstart"],
    "megaconstellation_1h": ["scenario=megaconstellation", "mission.duration_hours=1"],
}


def _git(checkout: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(checkout), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def _run(checkout: Path, overrides: list[str], work: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "simsat.cli.main",
        "run",
        *overrides,
        f"run.output_dir={work / 'runs'}",
        f"data.cache_dir={work / 'cache'}",
        "run.progress=false",
    ]
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0", "PYTHONPATH": str(checkout)}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=checkout)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(overrides)} failed on {checkout}: {done.stderr.strip().splitlines()[-1:]}")
    folder = Path(done.stdout.strip().splitlines()[-1])
    summary = json.loads((folder / "summary.json").read_text())
    wall_split = summary["wall"]
    trainings = int(summary["trainings"])
    return {
        "process_wall_seconds": round(wall, 1),
        "wall": wall_split,
        "contacts_made": summary["contacts"]["made"],
        "trainings": trainings,
        "trainings_per_mission_second": round(trainings / max(wall_split["mission_wall_seconds"], 1e-9), 2),
        "messages_per_contact": round(wall_split["messages"] / max(summary["contacts"]["made"], 1), 2),
        "bytes_up": summary["bytes"]["up_total"],
        "bytes_down": summary["bytes"]["down_total"],
        "final_accuracy": summary["accuracy"]["final"],
        "metrics_sha256": hashlib.sha256((folder / "metrics.csv").read_bytes()).hexdigest(),
    }


def _checkout_runs(checkout: Path, work: Path) -> dict[str, dict[str, Any]]:
    runs: dict[str, dict[str, Any]] = {}
    for name, overrides in RUNS.items():
        if name == "quickstart":
            _run(checkout, overrides, work)  # fills the cache: the reported run is the warm one
        runs[name] = _run(checkout, overrides, work)
        print(f"{checkout.name}: {name} mission {runs[name]['wall']['mission_wall_seconds']} s", file=sys.stderr)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description="the engine before and after a change, on this machine")
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the baseline commit")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"where the JSON goes (default {RESULTS})")
    args = parser.parse_args()
    after_checkout = HERE.parent
    record: dict[str, Any] = {
        "command": " ".join(["python bench/engine_before_after.py", *sys.argv[1:]]),
        "what": "the same runs on the baseline and on this checkout, back to back on one machine; quickstart: "
        "the second of two runs in one cache (warm); megaconstellation_1h: one simulated hour of 1,000 satellites",
        "before_commit": _git(args.before, "rev-parse", "HEAD"),
        "after_commit": _git(after_checkout, "rev-parse", "HEAD"),
        "runs": {},
        "machine": machine(),
    }
    with tempfile.TemporaryDirectory(prefix="simsat-engine-") as tmp:
        before = _checkout_runs(args.before.resolve(), Path(tmp) / "before")
        after = _checkout_runs(after_checkout, Path(tmp) / "after")
    for name in RUNS:
        b, a = before[name], after[name]
        record["runs"][name] = {
            "before": b,
            "after": a,
            "same_metrics": b["metrics_sha256"] == a["metrics_sha256"],
            "mission_ratio": round(a["wall"]["mission_wall_seconds"] / b["wall"]["mission_wall_seconds"], 3),
            "process_ratio": round(a["process_wall_seconds"] / b["process_wall_seconds"], 3),
        }
    args.results.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: {m: v[m] for m in ("same_metrics", "mission_ratio")} for k, v in record["runs"].items()}))


if __name__ == "__main__":
    main()
