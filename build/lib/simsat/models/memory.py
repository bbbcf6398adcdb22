"""Memory a student needs to train: weights, gradients, AdamW state and saved activations.

Measured once per (model, classes, batch size, input size) with torch: one real training step
(forward, loss, backward, AdamW step) on a zero batch, counting every distinct tensor storage
autograd saves for the backward pass (``torch.autograd.graph.saved_tensors_hooks``) and the
gradients and optimizer state that exist after the step. The Python/torch runtime itself is not
counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from simsat.errors import ConfigError
from simsat.models.registry import create_student


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes held at the peak of a training step, by kind."""

    weights: int
    gradients: int
    optimizer: int
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations


def _storage_key(tensor: torch.Tensor) -> tuple[int, int]:
    storage = tensor.untyped_storage()
    return storage.data_ptr(), storage.nbytes()


def _bytes(tensors: Sequence[torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


@lru_cache(maxsize=32)
def training_memory(model_name: str, num_classes: int, batch_size: int, input_size: int) -> TrainingMemory:
    """Measured training footprint of ``model_name`` at ``batch_size`` images of ``input_size`` px."""
    for key, value in (("num_classes", num_classes), ("batch_size", batch_size), ("input_size", input_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be an integer >= 1, got {value!r}")
    torch.manual_seed(0)
    model = create_student(model_name, num_classes).to(memory_format=torch.channels_last).train()
    params = list(model.parameters())
    param_storages = {_storage_key(p) for p in params}
    saved: dict[tuple[int, int], int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        key = _storage_key(tensor)
        if key not in param_storages:
            saved[key] = key[1]
        return tensor

    x = torch.zeros(batch_size, 3, input_size, input_size).contiguous(memory_format=torch.channels_last)
    target = torch.zeros(batch_size, dtype=torch.long)
    optimizer = torch.optim.AdamW(params)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = F.cross_entropy(model(x), target)
    loss.backward()
    optimizer.step()
    gradients = [p.grad for p in params if p.grad is not None]
    state = [v for s in optimizer.state.values() for v in s.values() if isinstance(v, torch.Tensor)]
    return TrainingMemory(
        weights=_bytes(params),
        gradients=_bytes(gradients),
        optimizer=_bytes(state),
        activations=sum(saved.values()),
    )


def training_memory_bytes(model_name: str, num_classes: int, batch_size: int, input_size: int) -> int:
    """Total bytes a training step of the student needs (see :func:`training_memory`)."""
    return training_memory(model_name, num_classes, batch_size, input_size).total
