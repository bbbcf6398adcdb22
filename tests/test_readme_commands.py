"""Every `simsat` command line in the README and the user guide (docs/guide.md) runs (runs shortened
and in-process), so an example can never again produce an empty run unnoticed. Commands that train are
marked slow except the cheapest run; the guide's own example files (a scenario, a board) are written from
its text."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from simsat.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
TEXT = "\n".join((ROOT / name).read_text(encoding="utf-8") for name in ("README.md", "docs/guide.md"))
SHORT = ["run.engine=in_process", "run.progress=false", "mission.duration_hours=6", "reference.epochs=1"]


def _commands() -> list[str]:
    found = []
    for block in re.findall(r"```bash\n(.*?)```", TEXT, re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if "pip install" in line:
                continue  # install lines are CI's job (.ci/run runs the test line)
            if line.startswith("simsat "):
                found.append(line)
    return found


COMMANDS = _commands()
TWENTY_FOUR = ("constellation24", "walker_24")  # 24-satellite examples: a quarter of an hour each at full size
CHEAP_RUN = "simsat run scenario=tiny mission.duration_hours=6 distill=static"


def _yaml_block(after_heading: str) -> str:
    section = TEXT[TEXT.index(after_heading) :]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data.cache_dir for every command: teachers, decoded images and contact plans are cached
    by what they are made from, so commands with the same teachers train them once."""
    return tmp_path_factory.mktemp("readme-cache")


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_cache: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cache").symlink_to(shared_cache, target_is_directory=True)
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "my_scenario.yaml").write_text(_yaml_block("## Write your own scenario"))
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "cubesat_fpga.yaml").write_text(_yaml_block("## Add your own hardware profile"))
    return tmp_path


def _argv(command: str, tmp: Path) -> list[str]:
    argv = shlex.split(command)[1:]
    if argv[0] == "run":
        argv += SHORT + [f"run.output_dir={tmp / 'runs'}", f"data.cache_dir={tmp / 'cache'}"]
        if any(name in command for name in TWENTY_FOUR):  # the scenario and its choices as written, smaller data
            argv += ["data.n_images=3000", "training.epochs=1"]
    if argv[:2] == ["hardware", "calibrate"]:
        argv += ["--images", "64", "--repeats", "1", "--out", str(tmp / "my_board.yaml")]
    if argv[0] == "contacts":
        argv += [f"run.output_dir={tmp / 'contacts'}"]
    if argv[0] == "sweep":
        argv += SHORT[1:] + [f"sweep.output_dir={tmp / 'sweeps'}", f"data.cache_dir={tmp / 'cache'}"]
    return argv


def _marks(command: str) -> list[pytest.MarkDecorator]:
    heavy = command.startswith("simsat run") and command != CHEAP_RUN
    heavy = heavy or (command.startswith("simsat sweep") and "--dry-run" not in command)
    return [pytest.mark.slow] if heavy or "calibrate" in command else []


def test_the_readme_has_commands() -> None:
    assert CHEAP_RUN in COMMANDS and len(COMMANDS) >= 8


@pytest.mark.parametrize("command", [pytest.param(c, marks=_marks(c), id=c[:60]) for c in COMMANDS])
def test_readme_command_runs(command: str, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_argv(command, workspace)) == 0, capsys.readouterr().err
    out = capsys.readouterr().out.strip().splitlines()
    assert out, "the command printed nothing"
    if command.startswith("simsat run"):
        folder = Path(out[-1])
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["aggregations"] >= 1 or summary["strategy"] in ("ground", "local"), "an empty run"
