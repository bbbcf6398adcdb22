"""`simsat sweep`: the grid, validation before anything runs, runs as Ray tasks, failure isolation,
resume by config hash, the same metrics.csv as a run alone, and a sweep on an existing cluster."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import timm
import torch

import simsat  # noqa: F401  (registers resnet8 in timm)
from simsat.cli.main import main
from simsat.config.grid import expand_grid
from simsat.config.load import load_config
from simsat.data import CLASS_NAMES
from simsat.errors import ConfigError
from simsat.runner import run_scenario
from test_ray_cluster import ray_head  # noqa: F401  (the fixture: a `ray start --head` on loopback)

# a mission small enough for tests: 2 satellites, 3 simulated hours, one small teacher
SMALL = [
    "scenario=tiny",
    "mission.duration_hours=3",
    "data.n_images=300",
    "reference.epochs=0",
    "distill.teachers=[{name: resnet8, input_size: 32, epochs: 1}]",
    "run.threads=1",
]


def _paths(tmp_path: Path) -> list[str]:
    return [f"sweep.output_dir={tmp_path / 'sweeps'}", f"data.cache_dir={tmp_path / 'cache'}"]


def _rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "runs.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_grid_is_hydras_product_in_the_order_given() -> None:
    grid = expand_grid(["seed=range(1,4)", "federation.aggregation=choice(sync,fedbuff)", "training.epochs=2"])
    assert grid.swept == ["seed", "federation.aggregation"]
    assert len(grid) == 6
    assert grid.combinations[0] == ["seed=1", "federation.aggregation=sync", "training.epochs=2"]
    assert grid.combinations[-1] == ["seed=3", "federation.aggregation=fedbuff", "training.epochs=2"]


def test_the_sweep_package_imports_no_hydra() -> None:
    code = "import sys, simsat.sweep.driver, simsat.sweep.plots; print('hydra' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.strip() == "False"
    )


def test_grid_refuses_what_it_cannot_expand_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"seed: interval sweeps are not supported"):
        expand_grid(["seed=interval(0,1)"])
    with pytest.raises(ConfigError, match=r"seed is given more than once"):
        expand_grid(["seed=1,2", "seed=3"])


def test_no_module_imports_hydra_internals() -> None:
    package = Path(simsat.__file__).parent
    texts = {p: p.read_text(encoding="utf-8") for p in package.rglob("*.py")}
    assert not [p for p, text in texts.items() if "from hydra._internal" in text or "import hydra._internal" in text]


def test_dry_run_prints_the_grid_and_its_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["sweep", *SMALL, "seed=1,2,3", "federation.aggregation=choice(sync,fedbuff)", *_paths(tmp_path), "--dry-run"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.strip().splitlines()[-1] == "6 runs (seed, federation.aggregation)"
    assert "fedbuff" in out and not (tmp_path / "sweeps").exists()


@pytest.mark.parametrize(
    ("items", "named"),
    [
        (["seed=1,2", "training.epochs=1,0"], ["run 2 of 4", "training.epochs=0", "training.epochs must be >= 1"]),
        (["seed=1,2", "ray.num_cpus=1,2"], ["ray.num_cpus cannot be swept"]),
        (["seed=1,2", "no_such.key=1"], ["no_such"]),
        (["seed=interval(1,2)"], ["sweep overrides", "seed: interval sweeps are not supported"]),
        (["sweep.run_cpus=3"], ["sweep.run_cpus", "ray.num_cpus=2"]),
    ],
)
def test_an_invalid_run_anywhere_stops_the_sweep_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], items: list[str], named: list[str]
) -> None:
    assert main(["sweep", *SMALL, *items, *_paths(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("simsat: error: ") and all(n in line for n in named), line
    assert not (tmp_path / "sweeps").exists()


@pytest.mark.slow  # a sweep on a local Ray, then its rerun
def test_a_failed_run_is_isolated_and_a_rerun_skips_the_finished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, corrupt = tmp_path / "good.pt", tmp_path / "corrupt.pt"
    torch.save(timm.create_model("resnet8", num_classes=len(CLASS_NAMES)).state_dict(), good)
    corrupt.write_bytes(b"\x80\x02 this is not a checkpoint")
    command = ["sweep", *SMALL, f"distill.teachers.0.checkpoint='',{good},{corrupt}", *_paths(tmp_path)]
    assert main(command) == 0  # one run failed, not all
    folder = Path(capsys.readouterr().out.strip().splitlines()[-1])
    rows = _rows(folder)
    assert [r["status"] for r in rows] == ["done", "done", "failed"]
    assert "corrupt.pt" in rows[2]["error"] and "\n" not in rows[2]["error"]
    assert rows[2]["run_folder"] == "" and rows[2]["final_accuracy"] == ""
    for row in rows[:2]:
        run = folder / row["run_folder"]
        assert (run / "metrics.csv").is_file() and 0 <= float(row["final_accuracy"]) <= 1
        assert int(row["bytes_up"]) > 0 and float(row["wall_s"]) > 0
    assert {p.name for p in folder.glob("*.png")} == {"accuracy.png", "final_accuracy.png", "tradeoffs.png"}
    assert (folder / "configs.csv").is_file() and "corrupt.pt" in (folder / "report.html").read_text()
    records = {p.name: p.read_text() for p in (folder / "records").glob("*.json")}

    # the same command again: the two finished runs are skipped (by config hash), the failed one reruns
    assert main(command) == 0
    captured = capsys.readouterr()
    assert Path(captured.out.strip().splitlines()[-1]) == folder
    assert "2 done (2 from before), 1 failed" in captured.err
    assert [r["run_folder"] for r in _rows(folder)] == [r["run_folder"] for r in rows]
    assert len(list((folder / "runs").glob("*/*"))) == 2
    done = {row["config_hash"] + ".json" for row in rows[:2]}
    assert all((folder / "records" / name).read_text() == records[name] for name in done)


@pytest.mark.slow
def test_a_sweep_runs_on_an_existing_cluster_by_address(
    ray_head: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sweep", *SMALL, "seed=1,2", f"ray.address={ray_head}", *_paths(tmp_path)]) == 0
    folder = Path(capsys.readouterr().out.strip().splitlines()[-1])
    rows = _rows(folder)
    assert [r["status"] for r in rows] == ["done", "done"]
    assert json.loads((folder / "sweep.json").read_text())["engine"] == "in_process"
    # the runs ran on the cluster named, not on a Ray of their own
    for row in rows:
        record = json.loads((folder / "records" / f"{row['config_hash']}.json").read_text())
        # the head's GCS port (Ray reports the node's own address, which may differ from the loopback one)
        assert record["ray"]["cluster"].rsplit(":", 1)[1] == ray_head.rsplit(":", 1)[1], record["ray"]
        assert record["ray"]["node"], record["ray"]
    # resume=SWEEP_DIR reads the grid from the folder: both runs are finished, nothing reruns
    assert main(["sweep", f"resume={folder}"]) == 0
    assert "2 done (2 from before), 0 failed" in capsys.readouterr().err
    # the same run alone, on Flower's simulation engine on the same cluster: the same metrics.csv
    alone = load_config(
        "tiny",
        [*SMALL[1:], "seed=2", f"ray.address={ray_head}", f"data.cache_dir={tmp_path / 'cache'}", "run.progress=false"]
        + [f"run.output_dir={tmp_path / 'alone'}"],
    )
    single = run_scenario(alone)
    assert (single / "metrics.csv").read_text() == (folder / rows[1]["run_folder"] / "metrics.csv").read_text()
