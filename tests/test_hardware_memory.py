"""The student's training footprint, measured with torch, against independent counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from simsat.errors import ConfigError
from simsat.models.memory import training_memory, training_memory_bytes
from simsat.models.registry import EXPECTED_PARAMETERS_10_CLASSES, create_student


def _conv_output_bytes(model_name: str, batch: int, size: int) -> int:
    """Bytes of every conv output of one forward pass (each is saved: BatchNorm follows every conv)."""
    model = create_student(model_name, 10)
    total = 0

    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel() * output.element_size()

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(hook)
    model(torch.zeros(batch, 3, size, size))
    return total


@pytest.mark.parametrize("model_name", ["resnet8", "resnet16"])
def test_weights_gradients_and_adamw_state(model_name: str) -> None:
    memory = training_memory(model_name, 10, 8, 32)
    weights = 4 * EXPECTED_PARAMETERS_10_CLASSES[model_name]
    assert memory.weights == weights and memory.gradients == weights
    # AdamW keeps two moments per parameter plus a scalar step per parameter tensor
    assert 2 * weights <= memory.optimizer <= 2 * weights + 4 * 200


@pytest.mark.parametrize("model_name", ["resnet8", "resnet16"])
def test_activations_cover_every_conv_output_and_scale_with_batch(model_name: str) -> None:
    small, large = training_memory(model_name, 10, 4, 32), training_memory(model_name, 10, 16, 32)
    convs = _conv_output_bytes(model_name, 16, 32)
    # saved: each conv output (BatchNorm input), each ReLU output, the input, a few small statistics
    assert convs < large.activations < 3 * convs
    assert large.activations / small.activations == pytest.approx(4.0, rel=0.02)
    assert training_memory_bytes(model_name, 10, 16, 32) == large.total
    assert large.total == large.weights + large.gradients + large.optimizer + large.activations


def test_resnet16_needs_more_than_resnet8_and_results_are_cached() -> None:
    assert training_memory("resnet16", 10, 8, 32).total > training_memory("resnet8", 10, 8, 32).total
    assert training_memory("resnet8", 10, 8, 32) is training_memory("resnet8", 10, 8, 32)


@pytest.mark.parametrize(
    ("args", "culprit"), [(("resnet8", 10, 0, 32), "batch_size"), (("resnet99", 10, 8, 32), "resnet99")]
)
def test_bad_arguments(args: tuple[str, int, int, int], culprit: str) -> None:
    with pytest.raises(ConfigError, match=culprit):
        training_memory(*args)
