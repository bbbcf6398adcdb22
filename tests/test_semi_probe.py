"""The central semi-supervised probe (simsat.experiment.semi_probe) on a fake EuroSAT folder with
split files, and its checks of bad settings (named by their command-line flags) before anything
is loaded."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from eurosat_fake import write_fake_eurosat_with_splits
from simsat.errors import ConfigError
from simsat.experiment.semi_probe import SemiProbe, check_probe, run_semi_probe

CLASSES = ("Forest", "River", "SeaLake")


def test_the_central_semi_probe_scores_its_baseline_and_every_epoch(tmp_path: Path) -> None:
    root, splits = write_fake_eurosat_with_splits(tmp_path, CLASSES)
    out = tmp_path / "semi.json"
    probe = SemiProbe(epochs=2, score_every=1, ratio=1, unlabelled_fraction=0.5)
    command = f"python bench/central_semi.py --data {root} --splits {splits} --epochs 2"
    run_semi_probe(root, splits, tmp_path / "cache", out, probe, command)
    result = json.loads(out.read_text())
    assert result["labelled_images"] == 9  # 10 % of the 90 train images, stratified
    assert result["unlabelled_images"] == 40  # half of the other 81
    assert set(result["baseline"]) == {"validation_accuracy", "test_accuracy"}
    assert [row["epoch"] for row in result["curve"]] == [1, 2]
    assert result["finished"] is True and result["final"] == result["curve"][-1]
    best = result["best_on_validation"]
    assert result["test_gain_points"] == round(100 * (best["test_accuracy"] - result["baseline"]["test_accuracy"]), 2)
    assert result["command"].startswith("python bench/central_semi.py --data")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"unlabelled_fraction": 0.0}, "--unlabelled-fraction must be in (0, 1], got 0.0"),
        ({"epochs": 0}, "--epochs must be >= 1, got 0"),
        ({"threshold": 1.5}, "--threshold must be in [0, 1], got 1.5"),
        ({"weight": -1.0}, "--weight must be >= 0, got -1.0"),
    ],
)
def test_the_central_semi_probe_names_a_bad_setting_by_its_flag(
    tmp_path: Path, change: dict[str, float], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        check_probe(dataclasses.replace(SemiProbe(), **change), tmp_path, tmp_path)
    assert str(caught.value) == message


def test_the_central_semi_probe_names_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--data must be a folder, got '/no/such'"):
        check_probe(SemiProbe(), Path("/no/such"), tmp_path)
    with pytest.raises(ConfigError, match="--splits must be a folder"):
        check_probe(SemiProbe(), tmp_path, tmp_path / "missing")
    check_probe(SemiProbe(), tmp_path, tmp_path)  # good settings pass
