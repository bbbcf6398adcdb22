"""Every command other than `run` refuses bad input as `run` does (exit 2, one line naming the key
or file, nothing written), and a signal stops it with one line, exit 130/143 and no partial file.

Cases run `simsat.cli.main.main([...])` in-process; expensive work is replaced by a guard that
fails the test, so that a check that comes too late shows as a failure, not as a slow test.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from simsat.cli.main import main


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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
