"""Importing simsat is light, and its students still reach timm's registry in either import order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "timm", "flwr", "ray", "hydra", "matplotlib")


def _python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), FLWR_TELEMETRY_ENABLED="0")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    return list(json.loads(_python(code)))


@pytest.mark.parametrize(
    "statement", ["import simsat", "import simsat.world", "import simsat.cli.main", "import simsat.api"]
)
def test_light_imports_load_no_heavy_library(statement: str) -> None:
    assert _loaded_after(statement) == []


CREATE = (
    "m = timm.create_model('resnet8', num_classes=10)\n"
    "print(type(m).__module__, sum(p.numel() for p in m.parameters()))"
)


@pytest.mark.parametrize(
    "imports",
    [
        "import simsat\nimport timm",
        # timm first: it has no resnet8 of its own until simsat is imported
        "import timm\nassert not timm.is_model('resnet8')\nimport simsat",
        # a mere look-up of timm keeps the registration pending; a submodule import triggers it
        "import importlib.util, simsat\nimportlib.util.find_spec('timm')\nimport timm.models\nimport timm",
    ],
    ids=["simsat_first", "timm_first", "lookup_then_submodule"],
)
def test_timm_creates_simsat_students_in_either_import_order(imports: str) -> None:
    assert _python(f"{imports}\n{CREATE}") == "simsat.models.resnet 103642"
