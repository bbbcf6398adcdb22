"""The package's layers: every import between simsat's packages points down the stack below, so
no package imports one above it and no two packages import each other (read from the sources'
import statements, function-level and type-checking imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import simsat

ROOT = Path(simsat.__file__).parent

# lowest first; a package may import any package in an earlier layer (never a later one, never
# one of its own layer)
LAYERS: list[set[str]] = [
    {"errors", "machine", "interrupt"},
    {"results"},  # atomic files and the run folder's readers, plots and report
    {"models", "world", "data"},
    {"distill"},
    {"hardware"},
    {"mission"},  # SimPy processes and the mission's own types; reads no config
    {"federation"},  # Flower apps and the transport over them
    {"config"},  # the schema, validation and compile: config -> the typed scenario
    {"ground"},  # the ground's torch work
    {"assembly"},  # wiring
    {"summary"},
    {"runner"},
    {"sweep"},
    {"experiment"},  # the centralised experiment and its resumable pieces, the federated EuroSAT grid
    {"api"},
    {"cli"},
]


def _package(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return parts[0]


def import_edges() -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) -> the files that import it."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        source = _package(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "simsat" or len(parts) < 2:
                    continue  # other libraries, and `import simsat` (its version)
                target = parts[1]
                if target != source and source != "__init__":
                    edges.setdefault((source, target), []).append(str(path.relative_to(ROOT)))
    return edges


def test_every_package_has_a_layer() -> None:
    packages = {_package(p) for p in ROOT.rglob("*.py")} - {"__init__", "__main__"}
    layered = set().union(*LAYERS)
    assert packages - layered == set(), "new package: give it a layer in LAYERS"


def test_imports_point_down_the_layers() -> None:
    rank = {name: k for k, layer in enumerate(LAYERS) for name in layer}
    upward = {
        f"{a} -> {b}": files
        for (a, b), files in import_edges().items()
        if a in rank and b in rank and rank[b] >= rank[a]
    }
    assert upward == {}


def test_the_mission_world_and_ground_read_no_schema() -> None:
    """Only the layers that turn configs into runs read `simsat.config.schema`; the mission, the
    world and the ground's learning get typed settings from `simsat.config.compile`."""
    readers = set()
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "simsat.config.schema":
                readers.add(_package(path))
    assert readers.isdisjoint({"mission", "world", "ground", "federation", "distill", "models", "data", "hardware"})
    assert "config" in readers
