"""`simsat hardware`: the table, one profile with its sources, user files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simsat.cli.main import main
from simsat.hardware import HardwareProfile, builtin_profiles


def table_rows(out: str) -> list[list[str]]:
    """Cells of the header and body rows of a printed table."""
    return [
        [cell.strip() for cell in line.strip().strip("│┃").split("│" if "│" in line else "┃")]
        for line in out.splitlines()
        if line.startswith(("│", "┃"))
    ]


def test_no_arguments_lists_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hardware"]) == 0
    lines = table_rows(capsys.readouterr().out)
    assert lines[0] == [
        "name",
        "train GFLOP/s",
        "infer GFLOP/s",
        "idle W",
        "busy W",
        "memory MB",
        "mJ/inference",
        "from",
    ]
    rows = {line[0]: line for line in lines[1:]}
    assert set(rows) == set(builtin_profiles())
    nano = rows["jetson_nano_5w"]
    assert nano[1:6] == ["16.0", "16.0", "1.25", "5.00", "4096"] and nano[-1] == "built-in"
    # ResNet8 at 64 px is 116.8 MFLOP: / 16 GFLOP/s x 5 W = 36.5 mJ
    assert float(nano[6]) == pytest.approx(116.8e6 / 16e9 * 5.0 * 1e3, rel=1e-3)


def test_show_prints_every_field_with_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hardware", "show", "raspberry_pi4"]) == 0
    out = capsys.readouterr().out
    profile = builtin_profiles()["raspberry_pi4"]
    assert "from         built-in" in out and profile.description in out
    rows = {row[0]: row for row in table_rows(out)}
    for key in ("flops_per_s", "inference_flops_per_s", "idle_w", "busy_w", "memory_mb", "radio_tx_w", "radio_rx_w"):
        assert rows[key][2] == profile.source(key)
    assert rows["busy_w"][1] == "6.4 W" and rows["flops_per_s"][1] == "4e+09 FLOP/s"
    assert "resnet8 training at batch 64: needs 160." in out and "of 4096 MB: fits" in out


def test_files_before_or_after_the_subcommand_and_unknown_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = HardwareProfile("small_board", "tiny", 1e9, 0.2, 0.9, 64.0, 1.0, 0.2, sources={"busy_w": "bench PSU"})
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small.to_dict()))
    assert main(["hardware", "--file", str(path)]) == 0
    rows = {row[0]: row for row in table_rows(capsys.readouterr().out)}
    assert rows["small_board"][-1] == str(path) and rows["small_board"][5] == "64"
    assert main(["hardware", "show", "small_board", "-f", str(path), "--batch-size", "64"]) == 0
    out = capsys.readouterr().out
    assert "bench PSU" in out and "of 64 MB: DOES NOT FIT" in out
    assert main(["hardware", "show", "small_board"]) == 2
    assert "unknown hardware profile 'small_board'" in capsys.readouterr().err
