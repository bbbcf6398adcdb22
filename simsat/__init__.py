"""simsat: federated knowledge distillation between a ground station and a satellite constellation.

Importing simsat registers its student models (resnet8, resnet16) in timm's model registry, so
``timm.create_model("resnet8", num_classes=10)`` works afterwards.
"""

from __future__ import annotations

from simsat.models.registry import register_timm_models

__version__ = "0.1.0"

register_timm_models()
