"""A wheel (`pip install .`, as on a cluster's nodes) carries the config groups and scenarios, and
the `simsat` it installs finds them outside the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # builds the wheel: about 20 s
def test_the_wheel_holds_configs_and_scenarios_and_its_simsat_uses_them(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building leaves a build/ folder beside the sources
    shutil.copytree(ROOT / "simsat", source / "simsat", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)]
    subprocess.run([*build, str(source)], check=True, cwd=tmp_path, timeout=600)
    (wheel,) = tmp_path.glob("simsat-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "simsat").rglob("*.yaml")}
    assert shipped and shipped <= names, sorted(shipped - names)
    # installed alone (its dependencies from this environment's site-packages, not the source tree)
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "-t", str(target), str(wheel)]
    subprocess.run(install, check=True, timeout=600)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]])}
    env.pop("SIMSAT_CONFIGS", None)
    env.pop("SIMSAT_SCENARIOS", None)
    probe = "import simsat, sys; print(simsat.__file__); from simsat.cli.main import main; sys.exit(main(sys.argv[1:]))"
    for argv in (["scenarios"], ["run", "scenario=quickstart", "--dry-run"]):
        out = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[0].startswith(str(target)), out.stdout  # the wheel's simsat, not the tree's
    assert "quickstart" in out.stdout and "contact windows" in out.stdout
