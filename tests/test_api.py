"""simsat.api: run and sweep folders as typed objects with tables, the comparison page, overrides as a
mapping, bad input refused in one line, and docs/api.md's example run as it is written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fake_run import FakeRun, write_fake_run
from fake_sweep import FakeSweepRun, write_fake_sweep
from simsat.api import Table, compare, load_run, load_sweep, overrides_list, run
from simsat.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_a_run_folder_reads_as_tables(tmp_path: Path) -> None:
    folder = write_fake_run(tmp_path / "run", FakeRun(hours=6.0, seed=2))
    result = load_run(folder)
    assert result.folder == folder.resolve() and result.summary["seed"] == 2
    accuracy = result.metrics.column("accuracy")
    assert accuracy[-1] == result.final_accuracy and all(isinstance(a, float) for a in accuracy)
    assert result.metrics.rows[0]["event"] == "initial" and result.metrics.rows[0]["version"] == 0
    contacts = result.events.where(kind="contact_start")
    assert len(contacts) > 0 and {"kind", "time_s", "satellite", "station"} <= set(result.events.columns)
    assert result.battery.columns == ["time_s", "satellite", "soc"]
    summary = {row["key"]: row["value"] for row in result.summary_table.rows}
    assert summary["accuracy.final"] == result.final_accuracy and "battery.min_soc" in summary
    assert result.fact("reference.ground_only_accuracy") == 0.45 and result.config["seed"] == 2
    with pytest.raises(KeyError, match="no column 'nope'"):
        result.metrics.column("nope")


def test_a_sweep_folder_reads_with_its_configurations_folded(tmp_path: Path) -> None:
    runs = [
        FakeSweepRun({"seed": "1", "link": "sband"}, 0.80),
        FakeSweepRun({"seed": "2", "link": "sband"}, 0.84),
        FakeSweepRun({"seed": "1", "link": "xband"}, None, error="ValueError: bad"),
    ]
    sweep = load_sweep(write_fake_sweep(tmp_path / "sweep", ["seed", "link"], runs))
    assert sweep.keys == ["link"] and len(sweep.runs) == 3
    sband, xband = sweep.configs.rows
    assert (sband["link"], sband["done"], xband["failed"]) == ("sband", 2, 1)
    assert sband["final_accuracy_mean"] == pytest.approx(0.82) and xband["final_accuracy_mean"] is None
    assert sweep.run(2).final_accuracy == 0.84
    with pytest.raises(ConfigError, match="run 3 has no run folder"):
        sweep.run(3)
    page = compare([sweep.folder], tmp_path / "cmp")
    assert page == tmp_path / "cmp" / "report.html" and "ValueError: bad" in page.read_text()


def test_folders_that_are_not_runs_or_sweeps_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a run folder"):
        load_run(tmp_path)
    with pytest.raises(ConfigError, match="not a sweep folder"):
        load_sweep(tmp_path)
    with pytest.raises(ConfigError, match="neither a run folder"):
        compare([tmp_path], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_overrides_are_a_mapping_or_keywords() -> None:
    items = overrides_list({"mission.duration_hours": 2, "run.progress": False}, {"seed": 3, "data__n_images": 200})
    assert items == ["mission.duration_hours=2", "run.progress=false", "seed=3", "data.n_images=200"]
    with pytest.raises(ConfigError, match="no_such"):
        run("tiny", {"no_such.key": 1})


def test_tables_convert_to_pandas_where_it_is_installed() -> None:
    table = Table.from_records([{"a": 1, "b": "x"}, {"a": 2}])
    assert table.columns == ["a", "b"] and table.column("b") == ["x", None] and "<td>x</td>" in table._repr_html_()
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            table.to_pandas()
    else:
        assert list(table.to_pandas()["a"]) == [1, 2]


@pytest.mark.slow
def test_the_documented_example_runs(tmp_path: Path) -> None:
    """docs/api.md's first Python block, as written, in a fresh folder (two short missions)."""
    text = (ROOT / "docs" / "api.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLWR_TELEMETRY_ENABLED": "0"}
    done = subprocess.run(
        [sys.executable, "-c", code.group(1)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "comparison/report.html"
    assert (tmp_path / "comparison" / "configs.csv").is_file()
