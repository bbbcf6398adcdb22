"""The package's layers: every import between simsat's packages points down the stack below, so
no package imports one above it and no two packages import each other (read from the sources'
import statements, function-level and type-checking imports included)."""

from __future__ import annotations

import ast
import re
import tokenize
from collections.abc import Iterator
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


def _sections() -> list[str]:
    """The schema's top-level sections: the fields of SimsatConfig that hold more fields."""
    import dataclasses
    import typing

    from simsat.config.schema import SimsatConfig

    hints = typing.get_type_hints(SimsatConfig)

    def holds_fields(kind: object) -> bool:
        args = typing.get_args(kind) if typing.get_origin(kind) is list else (kind,)
        return any(dataclasses.is_dataclass(arg) for arg in args)

    return [f.name for f in dataclasses.fields(SimsatConfig) if holds_fields(hints[f.name])]


def _text_tokens(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each string literal and comment of a source file (docstrings included;
    the code around them, attribute access included, is left out)."""
    kinds = {tokenize.STRING, tokenize.COMMENT, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    with path.open("rb") as handle:
        for token in tokenize.tokenize(handle.readline):
            if token.type in kinds:
                yield token.start[0], token.string


def test_the_library_layers_name_no_config_key() -> None:
    """`world`, `mission`, `ground` and `federation` name their own parameters in their errors,
    docstrings and comments, never a config key (`isl.max_range_km`): the config layer names the
    keys (`simsat.config.keys.config_keys`). Module paths (`simsat.mission.faults`) are not keys."""
    key = re.compile(r"(?<![\w.])(?:" + "|".join(_sections()) + r")\.[A-Za-z_]\w*")
    found = []
    for package in ("world", "mission", "ground", "federation"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, text in _text_tokens(path):
                for match in key.finditer(text):
                    at = line + text.count("\n", 0, match.start())
                    found.append(f"{path.relative_to(ROOT)}:{at}: {match.group()}")
    assert not found, "config keys named below the config layer:\n" + "\n".join(found)


def test_the_assembly_reads_no_config_key() -> None:
    """`simsat.assembly` wires the mission from the compiled `Scenario`: no `config.<section>`
    (nor `self.config.<section>`) is read there; `simsat.config.compile` reads the keys."""
    sections = set(_sections()) | {"seed", "name"}
    path = ROOT / "assembly.py"
    reads = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute) or node.attr not in sections:
            continue
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
        if name == "config":
            reads.append(f"assembly.py:{node.lineno}: config.{node.attr}")
    assert not reads, "\n".join(reads)
