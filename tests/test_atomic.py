"""Atomic writes: a file appears whole or not at all, and a failed write leaves the old one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

import pytest

from simsat.results.atomic import write_bytes, write_json, write_text, write_with


def test_writes_replace_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_json(path, {"accuracy": 0.9})
    assert json.loads(path.read_text()) == {"accuracy": 0.9}
    write_text(path, "second")
    assert path.read_text() == "second"
    write_bytes(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary files left


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("old,complete\n")

    def half_then_fail(handle: IO[bytes]) -> None:
        handle.write(b"new,half")
        raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of a write

    with pytest.raises(KeyboardInterrupt):
        write_with(path, half_then_fail)
    assert path.read_text() == "old,complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]
    with pytest.raises(OSError):
        write_text(tmp_path / "missing_folder" / "x.txt", "x")  # the folder is the caller's to create


def test_json_is_strict_nan_and_infinity_become_null(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_json(path, {"a": float("nan"), "b": [1.0, float("inf")], "c": (2, {3: -float("inf")})})
    assert json.loads(path.read_text()) == {"a": None, "b": [1.0, None], "c": [2, {"3": None}]}
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()
