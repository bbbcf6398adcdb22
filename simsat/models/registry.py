"""Registry of simsat student models and their registration into timm's model registry."""

from __future__ import annotations

import logging
from typing import Callable

import timm
from timm.models import is_model, model_entrypoint, register_model
from torch import nn

from simsat.errors import ConfigError
from simsat.models.resnet import resnet8, resnet16

logger = logging.getLogger(__name__)

STUDENT_MODELS: dict[str, Callable[..., nn.Module]] = {
    "resnet8": resnet8,
    "resnet16": resnet16,
}

# parameter counts with 10 classes (SPEC section 1); used by tests and reports
EXPECTED_PARAMETERS_10_CLASSES: dict[str, int] = {
    "resnet8": 103_642,
    "resnet16": 200_858,
}


def register_timm_models() -> None:
    """Register every simsat student in timm's registry; calling it again is a no-op.

    After this, `timm.create_model("resnet8", num_classes=10)` builds the simsat ResNet8.
    A foreign timm model of the same name (none in timm 1.0.x) is overwritten with a warning.
    """
    for name, factory in STUDENT_MODELS.items():
        if is_model(name):
            if model_entrypoint(name) is factory:
                continue
            logger.warning("timm already has a model named %r; replacing it with simsat's", name)
        register_model(factory)


def create_student(name: str, num_classes: int) -> nn.Module:
    """Build a simsat student by name (no timm registration needed)."""
    try:
        factory = STUDENT_MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown student model {name!r}; choose one of: {', '.join(sorted(STUDENT_MODELS))}"
        ) from None
    return factory(num_classes=num_classes)


def timm_version() -> str:
    """Installed timm version (part of cache keys)."""
    return str(timm.__version__)
