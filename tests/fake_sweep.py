"""A small synthetic sweep folder (sweep.json, runs.csv, run folders from fake_run) with chosen results,
so comparison tests need no Ray and can check statistics by hand."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from fake_run import FakeRun, write_fake_run
from simsat.sweep.records import RESULT_COLUMNS


@dataclass
class FakeSweepRun:
    values: dict[str, str]  # swept key -> value (seed included when swept)
    final: float | None = None  # the run's final accuracy (None: failed)
    time_to_080: float | None = None
    bytes_down: int = 1_000_000
    energy_wh: float = 1.0
    wall_s: float = 10.0
    error: str = ""
    extra: dict[str, object] = field(default_factory=dict)  # summary.json keys to set


def write_fake_sweep(folder: Path, swept: list[str], runs: list[FakeSweepRun]) -> Path:
    """A sweep folder with one fake run folder per finished run (its summary's results set as given)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, run in enumerate(runs, start=1):
        digest = f"{i:012x}"
        overrides = " ".join(f"{k}={v}" for k, v in run.values.items())
        row: dict[str, object] = {"run": i, "config_hash": digest, "overrides": overrides, **run.values}
        row.update({c: "" for c in RESULT_COLUMNS})
        if run.final is None:
            row.update(status="failed", error=run.error or "boom: a one-line error")
        else:
            seed = int(run.values.get("seed", i))
            run_folder = write_fake_run(folder / "runs" / digest / f"fake-s{seed}", FakeRun(hours=4.0, seed=seed))
            summary = json.loads((run_folder / "summary.json").read_text())
            summary["accuracy"].update(final=run.final, best=max(run.final, summary["accuracy"]["best"]))
            summary["time_to_accuracy_hours"]["0.80"] = run.time_to_080
            summary["bytes"] = {"up": {"model": 1000}, "down": {"update": run.bytes_down}, "up_total": 1000}
            summary["bytes"]["down_total"] = run.bytes_down
            summary["energy_wh"] = {"training_total": run.energy_wh}
            summary.update(run.extra)
            (run_folder / "summary.json").write_text(json.dumps(summary))
            (run_folder / "report.html").write_text("<html>run page</html>")
            row.update(
                status="done",
                final_accuracy=run.final,
                bytes_down=run.bytes_down,
                energy_wh=run.energy_wh,
                wall_s=run.wall_s,
                run_folder=str(run_folder.relative_to(folder)),
            )
        rows.append(row)
    (folder / "sweep.json").write_text(json.dumps({"items": [], "swept": swept, "runs": []}))
    with (folder / "runs.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["run", "config_hash", "overrides", *swept, *RESULT_COLUMNS])
        writer.writeheader()
        writer.writerows(rows)
    return folder
