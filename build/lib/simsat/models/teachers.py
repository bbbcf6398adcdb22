"""Teacher models: any timm architecture, no hub access, optional local checkpoint, any input size."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path

import timm
import torch
import torch.nn.functional as F
from torch import nn

from simsat.errors import ConfigError
from simsat.models.registry import register_timm_models

logger = logging.getLogger(__name__)

_STRIP_PREFIXES = ("model.", "module.")


class ResizedInput(nn.Module):
    """Wraps a model so it accepts any square input and resizes it (bilinear) to `input_size`."""

    def __init__(self, model: nn.Module, input_size: int) -> None:
        super().__init__()
        self.model = model
        self.input_size = input_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] != self.input_size or x.shape[-1] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        return self.model(x)


def create_teacher(name: str, num_classes: int, input_size: int = 64, checkpoint: Path | None = None) -> ResizedInput:
    """Build timm model `name` (never pretrained from the hub), optionally loading a local state_dict.

    The returned module accepts 64x64 (or any) inputs and resizes them to `input_size`.
    A checkpoint whose classifier has a different number of classes (e.g. ImageNet weights)
    loads everything but the classifier, which stays freshly initialised.
    """
    register_timm_models()
    if not isinstance(name, str) or not timm.is_model(name):
        raise ConfigError(f"unknown timm model name {name!r}")
    if num_classes < 1:
        raise ConfigError(f"num_classes must be >= 1, got {num_classes}")
    if input_size < 8:
        raise ConfigError(f"teacher input_size must be >= 8, got {input_size}")
    model = timm.create_model(name, pretrained=False, num_classes=num_classes)
    if checkpoint is not None:
        load_checkpoint(model, Path(checkpoint))
    return ResizedInput(model, input_size)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a bare state_dict or {"state_dict": ...} with torch.load(weights_only=True)."""
    if path.is_dir():
        raise ConfigError(f"checkpoint {path} is a folder, not a file")
    if not path.is_file():
        raise ConfigError(f"checkpoint file not found: {path}")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickle protocols of garbage files
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - any unreadable file is a user error here
        # torch's own message is several lines of advice about unsafe loading; name the file instead
        raise ConfigError(
            f"checkpoint {path} is not a readable PyTorch state_dict (a file written by torch.save of tensors)"
        ) from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ConfigError(f"checkpoint {path} does not contain a state_dict (a mapping of names to tensors)")
    state = dict(obj)
    for prefix in _STRIP_PREFIXES:
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    return state


def _classifier_prefix(model: nn.Module) -> str | None:
    get_classifier = getattr(model, "get_classifier", None)
    if get_classifier is None:
        return None
    head = get_classifier()
    for mod_name, mod in model.named_modules():
        if mod is head and mod_name:
            return mod_name + "."
    return None


def load_checkpoint(model: nn.Module, path: Path) -> None:
    """Load `path` into `model` strictly, except a classifier whose shape differs (kept fresh)."""
    state = read_state_dict(path)
    own = model.state_dict()
    head = _classifier_prefix(model)
    mismatched = [k for k in state if k in own and state[k].shape != own[k].shape]
    head_keys = [k for k in mismatched if head is not None and k.startswith(head)]
    if head_keys and len(head_keys) == len(mismatched):
        logger.info("checkpoint %s: classifier %s has another class count; keeping it fresh", path, head)
        for k in head_keys:
            state[k] = own[k]
        mismatched = []
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if mismatched:
            parts.append(f"{len(mismatched)} with other shapes (e.g. {mismatched[0]})")
        raise ConfigError(f"checkpoint {path} does not match {type(model).__name__}: {'; '.join(parts)} keys")
    model.load_state_dict(state, strict=True)
