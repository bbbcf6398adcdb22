"""One tiny mission through the real stack: Hydra config, teachers, Flower ServerApp and ClientApps
on Ray, the SimPy world, and the run folder it writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import timm
import torch

import simsat  # noqa: F401  (registers the students in timm)
from simsat.config.load import load_config
from simsat.results.recorder import METRIC_COLUMNS
from simsat.runner import run_scenario


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("e2e")
    config = load_config(
        "tiny",
        [
            f"run.output_dir={tmp / 'runs'}",
            f"data.cache_dir={tmp / 'cache'}",
            "run.progress=false",
            "ray.object_store_mb=100",
        ],
    )
    return run_scenario(config)


def test_run_folder_has_every_result(run_folder: Path) -> None:
    assert run_folder.is_dir() and not run_folder.name.endswith(".partial")
    for name in ("config.yaml", "metrics.csv", "events.jsonl", "summary.json", "accuracy.png",
                 "timeline.png", "battery.png", "checkpoints/global_final.pt"):
        assert (run_folder / name).is_file(), name
    assert not list(run_folder.parent.glob("*.partial"))


def test_summary_and_metrics_agree_with_events(run_folder: Path) -> None:
    summary = json.loads((run_folder / "summary.json").read_text())
    for key in ("initial_accuracy", "final_accuracy", "simulated_hours", "wall_seconds", "bytes_up", "bytes_down"):
        assert key in summary
    assert summary["simulated_hours"] == pytest.approx(12.0)
    events = [json.loads(line) for line in (run_folder / "events.jsonl").read_text().splitlines()]
    transfers = [e for e in events if e["kind"] == "transfer"]
    assert summary["bytes_up"] == sum(e["bytes"] for e in transfers if e["direction"] == "up") > 0
    assert summary["bytes_down"] == sum(e["bytes"] for e in transfers if e["direction"] == "down") > 0
    assert summary["aggregations"] == sum(e["kind"] == "aggregation" for e in events) >= 1
    with (run_folder / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0].keys()) == METRIC_COLUMNS
    assert len(rows) == 1 + summary["aggregations"]
    assert float(rows[0]["accuracy"]) == pytest.approx(summary["initial_accuracy"])
    assert float(rows[-1]["accuracy"]) == pytest.approx(summary["final_accuracy"])
    # Aggregation changed the global student, and its score is a real evaluation.
    assert summary["final_accuracy"] != summary["initial_accuracy"]
    assert 0.0 <= summary["final_accuracy"] <= 1.0
    assert len(summary["teachers"]) == 2


def test_checkpoint_loads_safely_into_timm_model(run_folder: Path) -> None:
    state = torch.load(run_folder / "checkpoints" / "global_final.pt", weights_only=True)
    model = timm.create_model("resnet8", num_classes=10)
    model.load_state_dict(state)
    assert sum(p.numel() for p in model.parameters()) == 103_642
