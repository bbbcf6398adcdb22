"""The ground's work on a GPU against the CPU, in one run: the quickstart and a short federated
EuroSAT piece, each with `run.device=cuda` and `run.device=cpu` (fresh processes, the same
seed), their wall time split and their accuracy side by side. Writes bench/results/gpu_check.json.

    python bench/gpu_check.py [--eurosat DIR --splits DIR] [--hours H] [--results FILE]

Needs a machine where torch sees a CUDA device (it stops with one line where none is). The
EuroSAT piece runs where `--eurosat` and `--splits` name EuroSAT RGB and its split files
(default: ../shared/data beside the repository, if it is there).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simsat.machine import machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "gpu_check.json"
SHARED = ROOT.parent / "shared" / "data"


def run(overrides: list[str], work: Path) -> dict[str, object]:
    """One `simsat run` in a fresh process; its wall time and the summary's figures."""
    command = [
        sys.executable,
        "-m",
        "simsat.cli.main",
        "run",
        f"run.output_dir={work / 'runs'}",
        f"data.cache_dir={work / 'cache'}",
        "run.progress=false",
        *overrides,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "FLWR_TELEMETRY_ENABLED": "0"})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"overrides": overrides, "error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    summary = json.loads((Path(done.stdout.strip().splitlines()[-1]) / "summary.json").read_text())
    return {
        "overrides": overrides,
        "wall_seconds": round(wall, 1),
        "device": summary.get("device"),
        "accuracy": summary["accuracy"],
        "wall": summary["wall"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="the ground's work on cuda against cpu")
    parser.add_argument("--eurosat", type=Path, default=SHARED / "eurosat_rgb")
    parser.add_argument("--splits", type=Path, default=SHARED / "eurosat_splits")
    parser.add_argument("--hours", type=float, default=6.0, help="simulated hours of the EuroSAT piece")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("gpu_check: torch sees no CUDA device on this machine; run it where there is one")
    pieces = {"quickstart": ["scenario=quickstart"]}
    if args.eurosat.is_dir() and args.splits.is_dir():
        pieces["federated_eurosat"] = [
            "scenario=federated_eurosat",
            f"data.path={args.eurosat}",
            f"data.split_dir={args.splits}",
            f"mission.duration_hours={args.hours:g}",
        ]
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="simsat-gpu-") as tmp:
        for name, overrides in pieces.items():
            by_device = {}
            for device in ("cuda", "cpu"):
                # each device its own cache: teachers and the reference are trained on it too
                by_device[device] = run([*overrides, f"run.device={device}"], Path(tmp) / f"{name}-{device}")
            cuda, cpu = by_device["cuda"], by_device["cpu"]
            ratio = None
            if "wall_seconds" in cuda and "wall_seconds" in cpu:
                ratio = round(float(cpu["wall_seconds"]) / float(cuda["wall_seconds"]), 2)  # type: ignore[arg-type]
            results[name] = {**by_device, "cpu_over_cuda_wall": ratio}
    record = {
        "command": " ".join(["python bench/gpu_check.py", *sys.argv[1:]]),
        "gpu": torch.cuda.get_device_name(0),
        "pieces": results,
        "machine": machine(),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: v.get("cpu_over_cuda_wall") for k, v in results.items()}))  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
