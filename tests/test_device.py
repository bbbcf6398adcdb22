"""`run.device`: resolved here (a CPU machine), refused in one line where it names no device
torch sees, and the device path's wrapper trains as the plain loop does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from simsat.cli.main import main
from simsat.distill.device import OnDevice, resolve_device
from simsat.distill.recipe import TrainRecipe
from simsat.distill.train import fit, predict_logits, train_supervised
from simsat.errors import ConfigError
from simsat.models.inputs import Normalization, to_input
from simsat.models.registry import create_student

needs_no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")


def test_auto_is_the_cpu_here_and_names_are_checked() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="run.device='gpu'"):
        resolve_device("gpu")


@needs_no_gpu
@pytest.mark.parametrize(
    ("command", "argument", "culprit"),
    [
        ("run", "run.device=cuda", "run.device=cuda"),
        ("run", "run.device=cuda:1", "run.device"),
        ("distill", "device=cuda", "device=cuda"),
    ],
)
def test_cuda_is_refused_in_one_line_where_there_is_none(
    command: str, argument: str, culprit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = "output_dir" if command == "distill" else "run.output_dir"
    code = main([command, f"{out}={tmp_path}/out", f"data.cache_dir={tmp_path}/cache", argument])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and culprit in lines[0], lines
    assert "no CUDA device" in lines[0]
    assert not (tmp_path / "out").exists()


def _data() -> tuple[np.ndarray, np.ndarray, Normalization]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (40, 16, 16, 3), dtype=np.uint8)
    return images, rng.integers(0, 10, 40), Normalization.from_images(images)


def test_the_device_wrapper_trains_and_predicts_as_the_plain_model() -> None:
    """OnDevice (inputs to the device, logits back) on the CPU: the same weights and logits as
    the plain loop, so the device path differs only by what the device itself computes."""
    images, labels, norm = _data()
    recipe = TrainRecipe(epochs=2, batch_size=16, lr=0.01)
    x = to_input(images, norm)
    y = torch.from_numpy(labels.astype(np.int64))

    def loss(m: torch.nn.Module, xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(m(xb), y[idx])

    weights = []
    for wrapped in (False, True):
        torch.manual_seed(0)
        model = create_student("resnet8", 10)
        if wrapped:
            fit(OnDevice(model, torch.device("cpu")), x, recipe, loss, seed=3)
        else:
            train_supervised(model, images, labels, recipe, norm, seed=3, device=torch.device("cpu"))
        weights.append({k: v.clone() for k, v in model.state_dict().items()})
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name
    plain = predict_logits(create_student("resnet8", 10), images, norm)
    assert plain.device.type == "cpu" and plain.shape == (40, 10)
