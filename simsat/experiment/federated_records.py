"""What the federated EuroSAT grid keeps of a finished piece: its record, where records go, the best global student.

`piece_record` reads a finished run's folder (summary.json, metrics.csv) into the benchmark's
record: the run's summary, its accuracy curve, the command, the versions and the machine.
`Outputs` names the files of one results folder: one record per piece
(<pieces>/<piece>-<config hash>.json, a `PieceStore`), the gathered JSON, the overlay plot and
the final global student of the best `fedkd` piece (`keep_global`).
"""

from __future__ import annotations

import csv
import json
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsat.experiment.federated_grid import Piece
from simsat.results.atomic import write_json
from simsat.sweep.hashing import scenario_hash
from simsat.sweep.pieces import PieceStore


def versions() -> dict[str, str]:
    import flwr
    import numpy
    import ray
    import timm
    import torch

    import simsat

    return {
        "simsat": simsat.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "timm": timm.__version__,
        "flwr": flwr.__version__,
        "ray": ray.__version__,
        "numpy": numpy.__version__,
    }


def normalization(config: Any) -> dict[str, list[float]]:
    """The mission's input normalization (from the ground's labelled images, 0..1 scale)."""
    from simsat.assembly import load_mission_data
    from simsat.config.compile import data_settings
    from simsat.config.validate import satellite_count
    from simsat.models.inputs import Normalization

    data = load_mission_data(data_settings(config), satellite_count(config))
    norm = Normalization.from_images(data.ground.images)
    return {"mean": [round(float(v), 6) for v in norm.mean], "std": [round(float(v), 6) for v in norm.std]}


def _curve(folder: Path) -> list[list[float]]:
    """(simulated hours, test accuracy) of every evaluation in the run's metrics.csv."""
    points = []
    with (folder / "metrics.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("accuracy") not in (None, ""):
                points.append([round(float(row["sim_hours"]), 4), round(float(row["accuracy"]), 4)])
    return points


def _efficiency(wall: dict[str, Any]) -> float | None:
    if wall.get("parallel_efficiency") is not None:
        return wall["parallel_efficiency"]
    speedup, workers = wall.get("parallel_speedup"), wall.get("workers") or 1
    return None if speedup is None else round(float(speedup) / workers, 3)


def piece_record(piece: Piece, config: Any, folder: Path, command: str, wall_s: float) -> dict[str, Any]:
    """Everything the benchmark reports about one finished run."""
    summary = json.loads((folder / "summary.json").read_text())
    per_sat = summary["energy_wh"]["training_per_satellite"]
    held = summary["images_held"]
    return {
        "name": piece.name,
        "group": piece.group,
        "config_hash": scenario_hash(config),
        "strategy": config.federation.strategy,
        "aggregator": config.federation.aggregation,
        "alpha": config.data.alpha,
        "seed": config.seed,
        "imagery_fraction": config.imagery.fraction,
        "imagery_received_fraction": round(summary["images_downlinked"] / held, 4) if held else None,
        "images_downlinked": summary["images_downlinked"],
        "images_held": held,
        "bytes_per_image_on_link": config.imagery.bytes_per_image or "jpeg",
        "satellites": summary["satellites"],
        "simulated_hours": summary["simulated_hours"],
        "model": config.satellite.model,
        "final_accuracy": summary["accuracy"]["final"],
        "best_accuracy": summary["accuracy"]["best"],
        "macro_precision": summary["accuracy"]["final_precision"],
        "macro_recall": summary["accuracy"]["final_recall"],
        "macro_f1": summary["accuracy"]["final_f1"],
        "time_to_accuracy_hours": summary["time_to_accuracy_hours"],
        "ground_only_accuracy": summary["reference"]["ground_only_accuracy"],
        "teachers": summary["reference"]["teachers"],
        "teacher_refreshes": summary.get("teacher_refreshes", []),
        "bytes": summary["bytes"],
        "energy_wh_per_satellite": {
            "mean": round(sum(per_sat) / len(per_sat), 4) if per_sat else 0.0,
            "max": max(per_sat) if per_sat else 0.0,
            "each": per_sat,
        },
        "contacts": summary["contacts"],
        "aggregations": summary["aggregations"],
        "trainings": summary["trainings"],
        "wall_seconds": round(wall_s, 1),
        "wall": summary["wall"],
        "parallel_efficiency": _efficiency(summary["wall"]),
        "curve": _curve(folder),
        "command": command,
        "versions": versions(),
        "machine": summary.get("machine"),
        "run_folder": str(folder),
    }


@dataclass(frozen=True)
class Outputs:
    """Where the benchmark writes (bench/results unless --results says otherwise)."""

    folder: Path

    @property
    def pieces(self) -> Path:
        return self.folder / "federated_eurosat_pieces"

    @property
    def summary(self) -> Path:
        return self.folder / "federated_eurosat.json"

    @property
    def plot(self) -> Path:
        return self.folder / "federated_eurosat.png"

    @property
    def global_model(self) -> Path:
        return self.folder / "federated_eurosat_global.pt"

    @property
    def store(self) -> PieceStore:
        """One record per finished piece, named <piece>-<config hash>."""
        return PieceStore(self.pieces)

    @staticmethod
    def key(piece: Piece, digest: str) -> str:
        return f"{piece.name}-{digest}"


def keep_global(record: dict[str, Any], folder: Path, out: Outputs) -> None:
    """Keep the run's final global student when it is the best fedkd run so far."""
    if record["strategy"] != "fedkd":
        return
    target = out.global_model
    marker = target.with_suffix(".json")
    best = json.loads(marker.read_text()) if marker.is_file() else None
    if best is not None and best["final_accuracy"] >= record["final_accuracy"]:
        return
    shutil.copyfile(folder / "checkpoints" / "global_final.pt", target)
    write_json(
        marker,
        {
            "piece": record["name"],
            "config_hash": record["config_hash"],
            "model": record["model"],
            "num_classes": 10,
            "final_accuracy": record["final_accuracy"],
            "load": "import simsat, timm, torch; m = timm.create_model(model, num_classes=10); "
            "m.load_state_dict(torch.load(path))",
        },
    )
