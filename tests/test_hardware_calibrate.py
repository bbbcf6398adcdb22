"""Calibration: this machine's measured FLOP/s as a profile that predicts its own training time."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import yaml

from simsat.cli.main import main
from simsat.hardware import default_registry
from simsat.hardware.calibrate import (
    calibrated_profile,
    measure,
    random_training_set,
    time_training,
    torch_threads,
    write_profile,
)
from simsat.models.cost import count_flops, training_flops_per_image
from simsat.models.registry import create_student

SMALL = {"model_name": "resnet8", "batch_size": 8, "input_size": 32, "threads": 1, "train_images": 32, "repeats": 1}


@pytest.fixture(scope="module")
def calibration():  # type: ignore[no-untyped-def]
    return measure(**SMALL)  # type: ignore[arg-type]


def test_rates_are_project_flops_over_measured_seconds(calibration) -> None:  # type: ignore[no-untyped-def]
    c = calibration
    model = create_student("resnet8", 10)
    assert c.train_flops_per_image == training_flops_per_image(model, 32)
    assert c.forward_flops_per_image == count_flops(model, 32)
    assert c.training_flops_per_s == pytest.approx(c.train_flops_per_image * 32 / c.train_seconds)
    assert c.inference_flops_per_s == pytest.approx(c.forward_flops_per_image * 8 / c.inference_seconds)
    assert 1e7 < c.training_flops_per_s < 1e14 and 1e7 < c.inference_flops_per_s < 1e14
    assert "1 threads" in c.machine and "torch" in c.machine and c.date.endswith("+00:00")
    assert 0 < c.cpu_share < 1.5
    assert dataclasses.replace(c, cpu_share=0.5).contended and not dataclasses.replace(c, cpu_share=0.95).contended


def test_profile_predicts_a_new_training_on_this_machine(calibration, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    profile = calibrated_profile("here", calibration, default_registry().get("raspberry_pi4"), 2048.0, busy_w=30.0)
    images, knowledge = random_training_set(64, 32, seed=5)
    with torch_threads(1):
        start = time.perf_counter()
        time_training("resnet8", images, knowledge, 8)
        wall = time.perf_counter() - start
    predicted = profile.compute_seconds(calibration.train_flops_per_image * 64)
    assert wall / 3 < predicted < wall * 3  # generous: other work shares these cores
    assert profile.busy_w == 30.0 and profile.idle_w == 2.7 and profile.memory_mb == 2048.0
    assert "given to `simsat hardware calibrate`" in profile.source("busy_w")
    assert profile.source("idle_w").startswith("copied from profile 'raspberry_pi4'")
    out = write_profile(profile, tmp_path / "here.yaml")
    data = yaml.safe_load(out.read_text())
    assert data["flops_per_s"] == pytest.approx(calibration.training_flops_per_s)
    loaded = default_registry([out]).get("here")
    assert loaded == profile
    assert f"got {calibration.cpu_share:.0%} of its threads' CPU time" in loaded.source("flops_per_s")
    for key in ("flops_per_s", "inference_flops_per_s", "memory_mb"):
        assert calibration.date in loaded.source(key) and calibration.machine in loaded.source(key)


def test_calibrate_command_writes_a_profile_that_show_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "boards" / "my_board.yaml"
    args = ["--batch-size", "8", "--input-size", "32", "--images", "16", "--repeats", "1", "--threads", "1"]
    assert main(["hardware", "calibrate", "--name", "my_board", *args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == str(out) and "training" in printed[0] and "GFLOP/s" in printed[0]
    assert main(["hardware", "show", "my_board", "--file", str(out.parent)]) == 0
    shown = capsys.readouterr().out
    assert f"from         {out}" in shown and "measured by `simsat hardware calibrate`" in shown
    assert main(["hardware", "calibrate", "--name", "myriad_x", *args, "--out", str(tmp_path / "x.yaml")]) == 2
    assert "'myriad_x' is already a hardware profile (from built-in" in capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.slow  # about 30 s: a calibration large enough to predict within 20 %
def test_a_calibration_predicts_a_larger_training_within_20_percent() -> None:
    """The profile a calibration writes predicts a held-out training (four times its images, another
    seed) on this machine within 20 %: the simulator's `compute_seconds` is then this machine's.
    Wall time on one thread, as `measure` takes it: run it on an otherwise idle machine (CI)."""
    big = {**SMALL, "batch_size": 32, "train_images": 256, "repeats": 5}
    calibration = measure(**big)  # type: ignore[arg-type]
    profile = calibrated_profile("here", calibration, default_registry().get("raspberry_pi4"), 2048.0)
    images, knowledge = random_training_set(1024, 32, seed=11)
    with torch_threads(1):  # the held-out training, like the calibration, at the machine's own speed
        measured = min(time_training("resnet8", images, knowledge, 32) for _ in range(2))
    predicted = profile.compute_seconds(calibration.train_flops_per_image * 1024)
    assert abs(predicted - measured) <= 0.2 * measured, (predicted, measured, calibration.cpu_share)
