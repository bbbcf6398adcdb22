"""The user guide's "Add your own hardware profile": the file example and the tiny package, run for real.

Each code block of that section whose first line is a comment naming a path is written to that path;
the package is installed with pip (no index, no build isolation) and found through its entry point.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from simsat.cli.main import main
from simsat.config.load import load_config

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Add your own hardware profile"


def _section_files() -> dict[str, str]:
    text = (ROOT / "docs" / "guide.md").read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    files = {}
    for body in re.findall(r"```[a-z]+\n(.*?)```", text[start:end], flags=re.S):
        first, _, rest = body.partition("\n")
        if first.startswith("# ") and "/" in first:
            files[first[2:].strip()] = rest
    return files


def _write(files: dict[str, str], folder: Path, prefix: str) -> Path:
    for name, content in files.items():
        if name.startswith(prefix):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(content)
    return folder / prefix


def test_readme_has_both_examples() -> None:
    assert set(_section_files()) == {
        "boards/cubesat_fpga.yaml",
        "acme-boards/pyproject.toml",
        "acme-boards/acme_boards.py",
    }


def test_file_example_shows_and_runs_in_a_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(_section_files(), tmp_path, "boards/")
    monkeypatch.chdir(tmp_path)  # the guide's relative paths
    assert main(["hardware", "show", "cubesat_fpga", "--file", "boards/cubesat_fpga.yaml"]) == 0
    out = capsys.readouterr().out
    assert "vendor benchmark of a small CNN" in out and "of 1024 MB: fits" in out
    config = load_config("quickstart", ["hardware.files=[boards]", "satellite.hardware=cubesat_fpga"])
    assert config.satellite.hardware == "cubesat_fpga"


def test_entry_point_example_installs_and_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    package = _write(_section_files(), tmp_path, "acme-boards/")
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(target),
            str(package),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (target / "acme_boards.py").exists()
    assert main(["hardware", "show", "acme_x1"]) == 2  # not installed on this path yet
    capsys.readouterr()
    monkeypatch.syspath_prepend(str(target))  # the installed package joins the import path
    monkeypatch.delitem(sys.modules, "acme_boards", raising=False)
    assert main(["hardware", "show", "acme_x1"]) == 0
    shown = capsys.readouterr().out
    assert "from         hardware entry point 'acme' (acme_boards:profiles) of package 'acme-boards'" in shown
    assert "ACME benchmark note" in shown and "of 2048 MB: fits" in shown
    assert main(["hardware"]) == 0
    assert "│ acme_x1 " in capsys.readouterr().out
