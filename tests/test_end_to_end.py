"""One tiny mission through the real stack: Hydra config, teachers, Flower ServerApp and ClientApps
on Ray (two trainings at once), the SimPy world, and the run folder it writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import timm
import torch

import simsat  # noqa: F401  (registers the students in timm)
from simsat.assembly import assemble
from simsat.config.load import load_config
from simsat.results.recorder import METRIC_COLUMNS, Recorder
from simsat.runner import run_scenario

pytestmark = pytest.mark.slow  # a whole run on Flower and Ray, twice: about two minutes

# commands take simulated time, so several are in flight on Ray at once; the metrics must not care
OVERRIDES = ["run.progress=false", "ray.object_store_mb=100", "reference.epochs=2", "mission.command_s=30"]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("e2e")
    config = load_config("tiny", [f"run.output_dir={tmp / 'runs'}", f"data.cache_dir={tmp / 'cache'}", *OVERRIDES])
    return run_scenario(config)


def test_run_folder_has_every_result(run_folder: Path) -> None:
    assert run_folder.is_dir() and not run_folder.name.endswith(".partial")
    for name in (
        "config.yaml",
        "metrics.csv",
        "events.jsonl",
        "summary.json",
        "battery.csv",
        "accuracy.png",
        "timeline.png",
        "battery.png",
        "report.html",
        "README.md",
        "checkpoints/global_final.pt",
    ):
        assert (run_folder / name).is_file(), name
    assert not list(run_folder.parent.glob("*.partial"))


def test_summary_and_metrics_agree_with_events(run_folder: Path) -> None:
    summary = json.loads((run_folder / "summary.json").read_text())
    assert summary["simulated_hours"] == pytest.approx(12.0)
    assert summary["strategy"] == "fedkd" and summary["aggregator"] == "fedasync"
    names = summary["satellite_names"]  # the names `simsat contacts` gives them, by index
    assert len(names) == summary["satellites"] and all(n.startswith("walker-") for n in names)
    events = [json.loads(line) for line in (run_folder / "events.jsonl").read_text().splitlines()]
    transfers = [e for e in events if e["kind"] == "transfer"]
    for direction, kinds in (("up", ("model", "knowledge")), ("down", ("update", "imagery"))):
        for kind in kinds:
            sent = sum(e["bytes_by_kind"].get(kind, 0) for e in transfers if e["direction"] == direction)
            assert summary["bytes"][direction][kind] == sent
        assert (
            summary["bytes"][f"{direction}_total"]
            == sum(e["bytes"] for e in transfers if e["direction"] == direction)
            > 0
        )
    assert (
        summary["bytes"]["down"]["imagery"]
        >= sum(e["encoded_bytes"] for e in events if e["kind"] == "imagery_received")
        > 0
    )
    assert summary["aggregations"] == sum(e["kind"] == "aggregation" for e in events) >= 1
    with (run_folder / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0].keys()) == METRIC_COLUMNS
    assert len(rows) == 1 + summary["aggregations"]
    assert float(rows[0]["accuracy"]) == pytest.approx(summary["accuracy"]["initial"], abs=1e-4)
    assert float(rows[-1]["accuracy"]) == pytest.approx(summary["accuracy"]["final"], abs=1e-4)
    assert set(summary["time_to_accuracy_hours"]) == {"0.80", "0.90", "0.95"}
    wall = summary["wall"]
    assert wall["workers"] == 2
    assert wall["train_wall_seconds"] > 0 and 0 < wall["mission_wall_seconds"] <= wall["total_seconds"]
    # the split adds up: set-up (with the engine's nodes identified), the mission, the finish
    assert list(wall["stages"])[-1] == "nodes" and wall["stages"]["nodes"] > 0
    parts = wall["setup_seconds"] + wall["mission_wall_seconds"] + wall["finish_seconds"]
    assert parts == pytest.approx(wall["total_seconds"], abs=0.01 * wall["total_seconds"] + 0.2)
    # the mission's messages: the identify exchange (one per node) is the stage "nodes"
    assert 0 < wall["messages"] < sum(e["kind"] in ("contact_start", "train_start") for e in events) * 4
    trained = sum(e["wall_s"] for e in events if e["kind"] in ("train_end", "train_cut"))
    assert wall["train_wall_seconds"] == pytest.approx(trained, rel=1e-3, abs=1e-2)
    assert 0.0 <= summary["reference"]["ground_only_accuracy"] <= 1.0
    assert len(summary["reference"]["teachers"]) == 2
    assert summary["machine"]["cpu"]


def test_events_hold_each_satellites_eclipses_in_time_order(run_folder: Path) -> None:
    events = [json.loads(line) for line in (run_folder / "events.jsonl").read_text().splitlines()]
    assert [e["time_s"] for e in events] == sorted(e["time_s"] for e in events)
    for satellite in (0, 1):  # a 10:30 sun-synchronous orbit is in the Earth's shadow every revolution
        starts = [e for e in events if e["kind"] == "eclipse_start" and e["satellite"] == satellite]
        ends = [e for e in events if e["kind"] == "eclipse_end" and e["satellite"] == satellite]
        assert len(starts) >= 6 and len(starts) - len(ends) in (0, 1)


def test_same_metrics_as_the_in_process_transport(run_folder: Path, tmp_path: Path) -> None:
    """Trainings ran two at a time on Ray actors, finishing in whatever order; the metrics are
    those of the same mission played one training at a time in this process."""
    cache = run_folder.parent.parent / "cache"
    config = load_config("tiny", [f"run.output_dir={tmp_path}", f"data.cache_dir={cache}", *OVERRIDES])
    torch.set_num_threads(config.run.threads)
    with assemble(config) as mission:
        recorder = Recorder(tmp_path, utc=mission.world.epoch.at)
        ops = mission.run(recorder, in_process=True)
        recorder.close()
    assert (tmp_path / "metrics.csv").read_text() == (run_folder / "metrics.csv").read_text()
    # the same mission sends the same messages on both engines; Flower's identify exchange is not one
    flower = json.loads((run_folder / "summary.json").read_text())["wall"]
    assert ops.messages.sent == flower["messages"] > 0


def test_checkpoint_loads_safely_into_timm_model(run_folder: Path) -> None:
    state = torch.load(run_folder / "checkpoints" / "global_final.pt", weights_only=True)
    model = timm.create_model("resnet8", num_classes=10)
    model.load_state_dict(state)
    assert sum(p.numel() for p in model.parameters()) == 103_642
