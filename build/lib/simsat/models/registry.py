"""Registry of simsat student models and their registration into timm's model registry."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from simsat.errors import ConfigError
from simsat.models.resnet import STUDENT_FACTORIES
from simsat.models.timm_hook import register_students_in_timm

STUDENT_MODELS: dict[str, Callable[..., nn.Module]] = dict(STUDENT_FACTORIES)

# parameter counts with 10 classes (Le et al., arXiv 2411.00209); used by tests and reports
EXPECTED_PARAMETERS_10_CLASSES: dict[str, int] = {
    "resnet8": 103_642,
    "resnet16": 200_858,
}


def register_timm_models() -> None:
    """Register every simsat student in timm's registry (imports timm); calling it again is a no-op.

    After this, `timm.create_model("resnet8", num_classes=10)` builds the simsat ResNet8.
    `import simsat` arranges this by itself as soon as timm is imported.
    """
    register_students_in_timm()


def create_student(name: str, num_classes: int) -> nn.Module:
    """Build a simsat student by name (no timm registration needed)."""
    try:
        factory = STUDENT_MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown student model {name!r}; choose one of: {', '.join(sorted(STUDENT_MODELS))}"
        ) from None
    return factory(num_classes=num_classes)
