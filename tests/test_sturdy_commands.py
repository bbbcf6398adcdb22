"""Every command other than `run` refuses bad input as `run` does (exit 2, one line naming the key
or file, nothing written), and a signal stops it with one line, exit 130/143 and no partial file.

Cases run `simsat.cli.main.main([...])` in-process; expensive work is replaced by a guard that
fails the test, so that a check that comes too late shows as a failure, not as a slow test.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from simsat.cli.main import main


def _guard(*args: object, **kwargs: object) -> None:
    raise AssertionError("the command started its expensive work before refusing its input")


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _one_line(code: int, expected: int, capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == expected, err
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- simsat contacts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "named"),
    [("taken", "taken"), ("taken/under", "taken"), ("out/tiny-contacts-is-a-file", "tiny-contacts")],
)
def test_contacts_checks_its_folder_before_the_plan(
    output: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import simsat.cli.contacts

    monkeypatch.setattr(simsat.cli.contacts, "build_world", _guard)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("a file")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "tiny-contacts").write_text("a file where the folder goes")
    out = "out" if output.startswith("out/") else output
    before = _files(tmp_path)
    line = _one_line(main(["contacts", "scenario=tiny", f"run.output_dir={tmp_path / out}"]), 2, capsys)
    assert "run.output_dir" in line and named in line
    assert _files(tmp_path) == before


@pytest.mark.parametrize("name", ["contacts.csv", "timeline.png"])
def test_contacts_refuses_a_folder_where_one_of_its_files_goes(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import simsat.cli.contacts

    monkeypatch.setattr(simsat.cli.contacts, "build_world", _guard)
    (tmp_path / "tiny-contacts" / name).mkdir(parents=True)
    before = _files(tmp_path)
    line = _one_line(main(["contacts", "scenario=tiny", f"run.output_dir={tmp_path}"]), 2, capsys)
    assert "run.output_dir" in line and f"tiny-contacts/{name}" in line and "in the way" in line
    assert _files(tmp_path) == before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("at", ["timeline", "tracks"])
def test_a_signal_while_contacts_writes_leaves_nothing(
    signum: int, at: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import simsat.cli.contacts

    name = "plot_timeline" if at == "timeline" else "plot_ground_tracks"
    real = getattr(simsat.cli.contacts, name)

    def killed_while_plotting(world: object, path: Path) -> None:
        path.write_bytes(b"\x89PNG half")  # a file begun ...
        os.kill(os.getpid(), signum)  # ... when the signal comes
        real(world, path)

    monkeypatch.setattr(simsat.cli.contacts, name, killed_while_plotting)
    out = tmp_path / "out" / "deeper"
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    line = _one_line(main(["contacts", "scenario=tiny", f"run.output_dir={out}"]), 128 + signum, capsys)
    assert signal.Signals(signum).name in line
    assert _files(tmp_path) == set(), "no file, no temporary folder, no folder created for it"
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == handlers


def test_contacts_over_an_earlier_plan_replaces_its_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "tiny-contacts"
    folder.mkdir()
    (folder / "contacts.csv").write_text("old")
    (folder / "notes.txt").write_text("mine")
    assert main(["contacts", "scenario=tiny", "mission.duration_hours=2", f"run.output_dir={tmp_path}"]) == 0
    assert capsys.readouterr().out.strip().endswith("contacts.csv")
    assert (folder / "contacts.csv").read_text().startswith("satellite,station")
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "contacts.csv",
        "ground_tracks.png",
        "notes.txt",
        "timeline.png",
        "tiny-contacts",
    ]


def test_a_new_contacts_folder_gets_the_mode_mkdir_gives(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contacts", "scenario=tiny", "mission.duration_hours=1", f"run.output_dir={tmp_path}"]) == 0
    (tmp_path / "plain").mkdir()
    assert (tmp_path / "tiny-contacts").stat().st_mode == (tmp_path / "plain").stat().st_mode


# --- simsat hardware calibrate ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--name", "mine", "--out", "{tmp}/taken/mine.yaml"], "taken"),
        (["--name", "mine", "--out", "{tmp}/mine.txt"], "mine.txt"),
        (["--name", "mine", "--out", "{tmp}/folder.yaml"], "folder.yaml"),
        (["--name", "mine", "--out", "/proc/simsat/mine.yaml"], "--out"),
        (["--name", "", "--out", "{tmp}/x.yaml"], "--name"),
        (["--name", "my board", "--out", "{tmp}/x.yaml"], "--name"),
        (["--name", "a=b"], "--name"),
        (["--name", "jetson_nano_5w"], "jetson_nano_5w"),
    ],
    ids=["out-under-file", "out-not-yaml", "out-is-folder", "out-not-writable", "name-empty", "name-space",
         "name-equals", "name-taken"],
)  # fmt: skip
def test_calibrate_checks_name_and_output_before_measuring(
    arguments: list[str],
    named: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import simsat.hardware.calibrate

    monkeypatch.setattr(simsat.hardware.calibrate, "measure", _guard)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("a file")
    (tmp_path / "folder.yaml").mkdir()
    before = _files(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    line = _one_line(main(["hardware", "calibrate", *args]), 2, capsys)
    assert named in line
    assert _files(tmp_path) == before


# --- simsat run: dates, files, fleets, faults ------------------------------------------------


@pytest.fixture
def no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import simsat.runner

    monkeypatch.setattr(simsat.runner, "run_scenario", _guard)


def _tle(tmp: Path) -> None:
    (tmp / "fleet.tle").write_text("anything\n")


def _nothing(tmp: Path) -> None:
    return None


RUN_CASES = [
    ("ends-after-9999", ["mission.start_utc=9999-12-31T20:00:00Z"], "after the year 9999", _nothing),
    ("far-future", ["mission.start_utc=9999-01-01T00:00:00Z"], "mission.start_utc", _nothing),
    ("year-1800", ["mission.start_utc=1800-01-01T00:00:00Z"], "1950-2050", _nothing),
    ("runs-into-2051", ["mission.start_utc=2050-12-31T20:00:00Z"], "1950-2050", _nothing),
    ("huge-duration", ["mission.duration_hours=1e9"], "mission.duration_hours", _nothing),
    ("tle-unreadable", ["constellation.tle={tmp}/fleet.tle"], "fleet.tle", _tle),
    ("tle-a-folder", ["constellation.tle={tmp}"], "constellation.tle", _nothing),
    ("mixed-fleet-unknown-share", ["satellite.hardware={jetson_nano_5w: 0.99, cray_1: 0.01}"], "cray_1", _nothing),
    ("mixed-fleet-unknown-zero", ["satellite.hardware={jetson_nano_5w: 1.0, cray_1: 0.0}"], "cray_1", _nothing),
    ("every-training-fails", ["faults.train_failure_rate=1"], "faults.train_failure_rate", _nothing),
    ("every-reply-late", ["faults.client_timeout_rate=1.0"], "faults.client_timeout_rate", _nothing),
    ("every-contact-lost", ["faults.contact_loss_rate=1"], "faults.contact_loss_rate", _nothing),
    ("all-dead-at-start", ["faults.dead_satellites=[{satellite: 0, at_hours: 0}, {satellite: 1, at_hours: 0}]"],
     "faults.dead_satellites", _nothing),
]  # fmt: skip


@pytest.mark.parametrize(("arguments", "culprit", "setup"), [pytest.param(*case[1:], id=case[0]) for case in RUN_CASES])
def test_run_refuses_in_one_line(
    arguments: list[str],
    culprit: str,
    setup: Callable[[Path], None],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_runs: None,
) -> None:
    if setup is _tle:  # unreadable (chmod 0 would not stop root, who runs CI here)
        real = Path.read_text

        def denied(path: Path, *args: object, **kwargs: object) -> str:
            if path.name == "fleet.tle":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "read_text", denied)
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    before = _files(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    line = _one_line(main(["run", "scenario=tiny", f"run.output_dir={tmp_path}/out", *args]), 2, capsys)
    assert culprit in line
    assert _files(tmp_path) == before


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["mission.start_utc=1990-06-01T00:00:00Z"], "2000-2049"),
        (["faults.train_failure_rate=0.95"], "faults.train_failure_rate=0.95"),
        (["federation.strategy=ground", "faults.train_failure_rate=0.5"], "has no effect"),
        (["faults.dead_satellites=[{satellite: 0, at_hours: 0}, {satellite: 1, at_hours: 2}]"], "dead by hour 2"),
    ],
)
def test_what_is_allowed_but_likely_not_meant_is_one_warning_naming_the_key(
    arguments: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_runs: None
) -> None:
    with pytest.raises(AssertionError, match="expensive work"):  # accepted: the guard stops it
        main(["run", "scenario=tiny", f"run.output_dir={tmp_path}", f"data.cache_dir={tmp_path}/cache", *arguments])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "WARNING" in lines[0] and named in lines[0], lines


def test_a_signal_while_calibrating_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import simsat.hardware.calibrate

    def measured_then_killed(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(simsat.hardware.calibrate, "measure", measured_then_killed)
    code = main(["hardware", "calibrate", "--name", "mine", "--out", str(tmp_path / "sub" / "mine.yaml")])
    line = _one_line(code, 143, capsys)
    assert "SIGTERM" in line and _files(tmp_path) == set()


def test_a_constellation_that_never_sees_a_station_has_an_empty_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by tests/test_fuzz_config.py: an equatorial shell never rises over the tiny
    scenario's station at 78 N, and the contact search failed on its empty list of passes."""
    args = ["contacts", "scenario=tiny", "constellation.inclination_deg=0", f"run.output_dir={tmp_path}"]
    assert main(args) == 0
    csv = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert csv.read_text().splitlines()[1:] == []


# --- simsat distill --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["data.split_dir={tmp}"], "data.split_dir"),  # synthetic data has no split files
        (["data.cache_dir={tmp}/taken/sub"], "data.cache_dir"),
        (["output_dir={tmp}/taken"], "output_dir"),
        (["teachers.0.checkpoint={tmp}"], "teachers.0.checkpoint"),
        (["efficiency.hardware=nope"], "efficiency.hardware"),
        (["device=tpu"], "device"),
    ],
)
def test_distill_refuses_bad_input_before_it_trains(
    arguments: list[str],
    named: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import simsat.experiment.central

    monkeypatch.setattr(simsat.experiment.central, "run_experiment", _guard)
    (tmp_path / "taken").write_text("a file")
    before = _files(tmp_path)
    code = main(["distill", *(a.replace("{tmp}", str(tmp_path)) for a in arguments)])
    assert named in _one_line(code, 2, capsys)
    assert _files(tmp_path) == before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_distill_trains_leaves_nothing(
    signum: signal.Signals, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The experiment's folder is written as `<name>.partial` and renamed when done: a signal
    during the work removes it, with one line and the shell's exit code."""
    import simsat.experiment.central

    def signalled(*args: object, **kwargs: object) -> None:
        assert any(p.name.endswith(".partial") for p in (tmp_path / "out").iterdir())  # config.yaml written
        os.kill(os.getpid(), signum)

    monkeypatch.setattr(simsat.experiment.central, "prepare", signalled)
    code = main(["distill", f"output_dir={tmp_path / 'out'}", f"data.cache_dir={tmp_path / 'cache'}"])
    line = _one_line(code, 128 + int(signum), capsys)
    assert signum.name in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
