"""`simsat sweep` refuses what cannot be swept through the real command line (exit 2, one line
naming the item, key or file, nothing written), checks its grid fast and says how far it got."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from simsat.cli.main import main
from simsat.cli.sweep import CheckProgress, plan_sweep
from simsat.config.batch import ScenarioBatch
from simsat.config.grid import grid_size
from simsat.config.load import load_config
from simsat.errors import ConfigError


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2, captured.err
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("item", "named"),
    [("seed=range(0,0)", "seed=range(0,0)"), ("seed=range(5,1)", "seed=range(5,1)"), ("seed=choice()", "seed")],
)
def test_a_grid_of_no_run_is_refused_in_one_line(
    item: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = _refused(["sweep", "scenario=tiny", item, "--dry-run"], capsys)
    assert named in line
    assert _files(tmp_path) == set()


def test_a_grid_above_the_cap_is_refused_before_it_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    line = _refused(["sweep", "seed=range(0,10000)", "--dry-run"], capsys)
    assert "sweep.max_runs" in line and "10,000" in line
    line = _refused(["sweep", "scenario=tiny", "seed=1,2,3,4", "sweep.max_runs=3"], capsys)
    assert "sweep.max_runs=3" in line
    line = _refused(["sweep", "scenario=tiny", "seed=range(0,1000000000)", "training.lr=0.1,0.2", "--dry-run"], capsys)
    assert "2,000,000,000 runs" in line
    assert time.monotonic() - start < 30  # a Hydra composition each, no grid expanded or checked
    assert _files(tmp_path) == set()


def test_the_grid_is_counted_without_expanding_it() -> None:
    assert grid_size(["a=range(0,10)", "b=x,y,z", "c=1"]) == 30
    assert grid_size(["a=range(0.001,0.201,0.001)"]) == 201  # Hydra's float steps
    assert grid_size(["a=range(10,0,-3)"]) == 4
    with pytest.raises(ConfigError, match="gives no value"):
        grid_size(["a=range(1,5,0)"])


def _sweep_folder(tmp_path: Path, sweep_json: str | None) -> Path:
    folder = tmp_path / "sweeps" / "tiny-abc"
    folder.mkdir(parents=True)
    if sweep_json is not None:
        (folder / "sweep.json").write_text(sweep_json)
    return folder


@pytest.mark.parametrize(
    "text",
    [
        '{"items": ["scenario=tiny", "seed=1,2"], "swe',  # cut short
        '{"swept": ["seed"]}',  # no items
        '{"items": "seed=1,2"}',  # a string, not a list
        '{"items": [1, 2]}',  # not key=value strings
        "[1, 2, 3]",  # not a mapping
        "",  # empty
    ],
    ids=["truncated", "missing-items", "items-a-string", "items-numbers", "a-list", "empty"],
)
def test_resume_of_a_damaged_sweep_json_names_it(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _sweep_folder(tmp_path, text)
    before = _files(tmp_path)
    line = _refused(["sweep", f"resume={folder}"], capsys)
    assert "sweep.json" in line
    assert _files(tmp_path) == before and (folder / "sweep.json").read_text() == text


def test_resume_of_a_sweep_json_with_a_bad_grid_names_the_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _sweep_folder(tmp_path, json.dumps({"items": ["scenario=tiny", "seed=range(0,0)"]}))
    line = _refused(["sweep", f"resume={folder}"], capsys)
    assert "seed=range(0,0)" in line


def test_the_batch_loader_gives_what_load_config_gives() -> None:
    batch = ScenarioBatch("tiny")
    cases = [
        ["seed=3"],
        ["link=xband", "seed=4"],
        ["ground_stations=[]", "ground_stations.0.name=x"],
        ["distill.teachers.0.name=resnet8", "training.lr=0.01"],
        ["seed=5"],  # after the changes above: nothing of them is left in the cached composition
        ["training.epochs=many"],
        ["mission.colour=red"],
        ["distill=paper", "distill.teachers.0.epochs=0"],
    ]
    for items in cases:
        expected: object
        got: object
        try:
            expected = load_config("tiny", items)
        except ConfigError as exc:
            expected = str(exc)
        try:
            got = batch.load(items)
        except ConfigError as exc:
            got = str(exc)
        assert got == expected, items


def test_the_grid_is_checked_at_50_runs_a_second_with_progress(caplog: pytest.LogCaptureFixture) -> None:
    plan_sweep(["scenario=tiny", "seed=0"])  # imports and first-use costs out of the timing
    progress = CheckProgress(_NotATerminal(), after_s=0.0, every_s=0.0)
    with caplog.at_level(logging.INFO, logger="simsat.sweep"):
        start = time.monotonic()
        plan = plan_sweep(["scenario=tiny", "seed=range(0,100)"], progress)
        rate = len(plan.runs) / (time.monotonic() - start)
    assert len(plan.runs) == 100
    assert rate >= 50 / 3, f"{rate:.0f} runs/s"  # >= 50/s on an idle core; slack for a busy machine
    assert "100 of 100 runs checked" in caplog.text


class _NotATerminal:
    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None
