"""The central semi-supervised probe (simsat.experiment.semi_probe) on a fake EuroSAT folder with
split files, and its command line's checks of bad arguments before anything is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eurosat_fake import write_fake_eurosat_with_splits
from simsat.experiment.semi_probe import SemiProbe, run_semi_probe

ROOT = Path(__file__).resolve().parents[1]
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
    ("flag", "value", "message"),
    [
        ("--unlabelled-fraction", "0", "--unlabelled-fraction"),
        ("--epochs", "0", "--epochs"),
        ("--threshold", "1.5", "--threshold"),
        ("--data", "/no/such", "--data"),
    ],
)
def test_the_central_semi_probe_names_a_bad_argument_before_loading_anything(
    tmp_path: Path, flag: str, value: str, message: str
) -> None:
    root, splits = write_fake_eurosat_with_splits(tmp_path, CLASSES)
    args = {"--data": str(root), "--splits": str(splits), flag: value}
    argv = [item for pair in args.items() for item in pair] + ["--out", str(tmp_path / "x.json")]
    env = dict(os.environ, PYTHONPATH=str(ROOT), FLWR_TELEMETRY_ENABLED="0")
    stopped = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "central_semi.py"), *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert stopped.returncode == 2
    assert message in stopped.stderr
    assert not (tmp_path / "x.json").exists()
