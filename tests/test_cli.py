"""The command line: scenario listing, and bad input rejected with one line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simsat.cli.main import main

BAD_INPUT = [
    (["scenario=no_such_scenario"], "no_such_scenario"),
    (["constellation.colour=red"], "colour"),
    (["constellation.altitude_km=-500"], "constellation.altitude_km"),
    (["ground_stations.0.min_elevation_deg=95"], "min_elevation_deg"),
    (["constellation.planes=0"], "constellation.planes"),
    (["link.uplink_bps=-1"], "uplink_bps"),
    (["link.downlink_bps=0"], "downlink_bps"),
    (["satellite.hardware=cray_1"], "cray_1"),
    (["distill.weighting=telepathy"], "telepathy"),
    (["data.alpha=-1"], "data.alpha"),
    (["constellation.planes=many"], "constellation.planes"),
]


@pytest.mark.parametrize(("overrides", "culprit"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line(
    overrides: list[str], culprit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "runs"
    code = main(["run", f"run.output_dir={out_dir}", *overrides])
    captured = capsys.readouterr()
    assert code == 2
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert culprit in lines[0]
    assert "Traceback" not in captured.err
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_console_script_bad_input_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simsat.cli.main",
            "run",
            "constellation.altitude_km=-5",
            f"run.output_dir={tmp_path / 'runs'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "constellation.altitude_km" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_scenarios_lists_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "scenario" in line)
    for column in ("satellites", "hours", "config groups", "description"):
        assert column in header
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert {"quickstart", "tiny", "constellation24"} <= set(rows)
    assert "│ 24 " in rows["constellation24"] and "walker_24" in rows["constellation24"]
    assert all(len(line) == len(header) for line in rows.values())  # one line per scenario, never wrapped


def test_help_lists_groups_scenarios_and_examples() -> None:
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "simsat.cli.main", "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0
    for text in (
        "config groups",
        "link",
        "xband",
        "scenarios",
        "quickstart",
        "constellation24",
        "examples:",
        "simsat run scenario=tiny",
    ):
        assert text in proc.stdout, text


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from simsat import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"simsat {__version__}"


def test_log_lines_are_not_wrapped_off_a_terminal() -> None:
    import io
    import logging

    from simsat.cli.main import _setup_logging

    stream = io.StringIO()
    _setup_logging(False, stream)
    try:
        message = "a long line " + "x" * 300
        logging.getLogger("simsat.test").info(message)
        logging.getLogger("simsat.test").debug("hidden at INFO")
    finally:
        logging.basicConfig(force=True, handlers=[logging.NullHandler()])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].endswith(message) and "simsat.test" in lines[0]


def test_hardware_lists_builtin_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hardware"]) == 0
    out = capsys.readouterr().out
    assert "jetson_nano_5w" in out and "GFLOP/s" in out


def test_contacts_writes_plan_and_prints_its_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["contacts", "scenario=tiny", f"run.output_dir={tmp_path}"]) == 0
    path = Path(capsys.readouterr().out.splitlines()[-1])
    assert path.parent.parent == tmp_path and path.name == "contacts.csv"
    lines = path.read_text().splitlines()
    assert lines[0].startswith("satellite,station,start_utc,end_utc,duration_s,max_elevation_deg")
    rows = [line.split(",") for line in lines[1:]]
    assert rows, "a polar orbit over Svalbard has contacts within 12 hours"
    for row in rows:
        assert 0 < float(row[4]) < 20 * 60
    assert (path.parent / "timeline.png").stat().st_size > 0
    assert (path.parent / "ground_tracks.png").stat().st_size > 0


def test_contacts_writes_isl_windows_when_enabled(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ring = ["constellation.planes=1", "constellation.sats_per_plane=10", "constellation.altitude_km=550"]
    assert main(["contacts", "scenario=tiny", f"run.output_dir={tmp_path}", "mission.duration_hours=2", *ring]) == 0
    folder = Path(capsys.readouterr().out.splitlines()[-1]).parent
    assert not (folder / "isl_contacts.csv").exists()  # isl.enabled is false by default
    args = ["contacts", "scenario=tiny", f"run.output_dir={tmp_path}", "mission.duration_hours=2", *ring, "isl=optical"]
    assert main(args) == 0
    lines = (folder / "isl_contacts.csv").read_text().splitlines()
    assert lines[0] == "a,b,start_utc,end_utc,duration_s,min_range_km,max_range_km"
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 10  # one plane of ten: each satellite and the next, the whole two hours
    for row in rows:
        assert float(row[4]) == 7200.0 and row[5] == row[6] == "4281.824"
