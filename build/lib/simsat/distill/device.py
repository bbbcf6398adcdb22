"""Where the ground's torch work runs: `auto` (CUDA when torch sees one, else CPU), `cpu`,
`cuda` or `cuda:N`.

A model trained on a device other than the CPU is wrapped so that its inputs go to the device
and its logits come back: the batches, augmentations and losses stay on the CPU (where the
seeded generators are), and the convolutions, which are nearly all the work, run on the device.
On the CPU nothing is wrapped or moved, so CPU results are those of the plain loop.
"""

from __future__ import annotations

import torch
from torch import nn

from simsat.errors import ConfigError

DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"


def resolve_device(name: str, key: str = "run.device") -> torch.device:
    """The torch device `name` stands for on this machine; ConfigError (naming `key`) when it
    is malformed or not here."""
    text = str(name).strip().lower()
    if text == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        if not torch.cuda.is_available():
            raise ConfigError(f"{key}={name}: torch sees no CUDA device on this machine (use {key}=auto or cpu)")
        index = int(text[5:]) if ":" in text else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(f"{key}={name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return torch.device("cuda", index)
    raise ConfigError(f"{key}={name!r}: expected {DEVICE_CHOICES}")


def is_cpu(device: torch.device | None) -> bool:
    return device is None or device.type == "cpu"


class OnDevice(nn.Module):
    """`model` (already on `device`) taking CPU inputs and giving CPU logits."""

    def __init__(self, model: nn.Module, device: torch.device) -> None:
        super().__init__()
        self.model = model
        self.device = device

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.to(self.device, non_blocking=True)).to("cpu")


def on_device(model: nn.Module, device: torch.device | None) -> nn.Module:
    """`model` moved to `device` and wrapped (see OnDevice); itself on the CPU."""
    if is_cpu(device):
        return model
    assert device is not None
    return OnDevice(model.to(device), device)
