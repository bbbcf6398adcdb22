"""Each run's record (records/<config hash>.json) and the sweep's runs.csv, one row per run."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simsat.results.atomic import write_text
from simsat.sweep.pieces import PieceStore
from simsat.sweep.plan import SweepPlan, SweepRun

DONE, FAILED, PENDING = "done", "failed", "pending"
THRESHOLDS = ("0.80", "0.90", "0.95")
RESULT_COLUMNS = (
    "status",
    "error",
    "final_accuracy",
    *(f"time_to_{t}_h" for t in THRESHOLDS),
    "bytes_up",
    "bytes_down",
    "energy_wh",
    "wall_s",
    "run_folder",
)


def columns(swept: Sequence[str]) -> list[str]:
    """runs.csv's columns: the run, its config hash, its overrides (all, then one column per swept key), results."""
    return ["run", "config_hash", "overrides", *swept, *RESULT_COLUMNS]


def summary_facts(run_folder: Path) -> dict[str, Any]:
    """The run's results as runs.csv reports them, from its summary.json."""
    s = json.loads((run_folder / "summary.json").read_text())
    hours = s["time_to_accuracy_hours"]
    return {
        "final_accuracy": s["accuracy"]["final"],
        **{f"time_to_{t}_h": hours.get(t) for t in THRESHOLDS},
        "bytes_up": s["bytes"]["up_total"],
        "bytes_down": s["bytes"]["down_total"],
        "energy_wh": s["energy_wh"]["training_total"],
    }


class RecordStore:
    """The finished runs of one sweep folder, by config hash; what a rerun skips."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pieces = PieceStore(folder / "records")

    def read(self, digest: str) -> dict[str, Any] | None:
        return self.pieces.read(digest)

    def finished(self, run: SweepRun) -> bool:
        """True when the run is done and its run folder is still there."""
        record = self.read(run.hash)
        return bool(record and record["status"] == DONE and (self.folder / record["run_folder"]).is_dir())

    def write(self, run: SweepRun, outcome: dict[str, Any]) -> dict[str, Any]:
        """Record a run's outcome ({status, error, wall_s, run_folder (absolute or ''), and where it
        ran: ray {cluster, node}}); returns the record."""
        record: dict[str, Any] = {"run": run.index, "config_hash": run.hash, "overrides": " ".join(run.items)}
        record.update(run.swept)
        record.update({c: None for c in RESULT_COLUMNS})
        record.update(status=outcome["status"], error=outcome.get("error") or "", wall_s=outcome.get("wall_s"))
        if outcome.get("resumed"):  # see the summary's wall.seconds_before_resume
            record["resumed"] = True
        if outcome.get("ray"):  # the Ray cluster (its GCS address) and node the run ran on
            record["ray"] = outcome["ray"]
        if outcome["status"] == DONE:
            folder = Path(outcome["run_folder"])
            record["run_folder"] = (
                str(folder.relative_to(self.folder)) if folder.is_relative_to(self.folder) else str(folder)
            )
            record.update(summary_facts(folder))
        self.pieces.write(run.hash, record)
        return record

    def rows(self, plan: SweepPlan) -> list[dict[str, Any]]:
        """One row per run of `plan`, in grid order; runs without a record are pending."""
        rows = []
        for run in plan.runs:
            record = self.read(run.hash)
            if record is None:
                record = {"run": run.index, "config_hash": run.hash, "overrides": " ".join(run.items), **run.swept}
                record.update({c: None for c in RESULT_COLUMNS}, status=PENDING, error="")
            rows.append({**record, "run": run.index})
        return rows


def write_runs_csv(path: Path, plan: SweepPlan, rows: Sequence[dict[str, Any]]) -> Path:
    """runs.csv: one row per run (empty cells where a value does not exist)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns(plan.swept), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return write_text(path, out.getvalue())
