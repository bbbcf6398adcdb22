"""Finished pieces of work as JSON records in one folder, one file per piece name: what a rerun skips.

A sweep keeps one record per run (named by its config hash); the centralized experiment one per
student, rule and seed (simsat.experiment.pieces); the federated EuroSAT grid one per piece, named
by the piece and its scenario hash (simsat.experiment.federated_grid).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from simsat.results.atomic import write_json

Writer = Callable[[Path, Any], Path]


class PieceStore:
    def __init__(self, folder: Path, writer: Writer = write_json) -> None:
        self.folder = folder
        self._write = writer

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def finished(self, name: str) -> bool:
        return self.path(name).is_file()

    def read(self, name: str) -> dict[str, Any] | None:
        path = self.path(name)
        return json.loads(path.read_text()) if path.is_file() else None

    def write(self, name: str, record: dict[str, Any]) -> Path:
        """Write the record (atomically), creating the folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self._write(self.path(name), record)

    def records(self) -> list[dict[str, Any]]:
        """Every record, by file name."""
        return [json.loads(p.read_text()) for p in sorted(self.folder.glob("*.json"))]

    def todo(self, names: Iterable[str]) -> list[str]:
        """The names without a record, in the order given."""
        return [name for name in names if not self.finished(name)]
