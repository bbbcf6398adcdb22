"""simsat: federated knowledge distillation between a ground station and a satellite constellation.

Importing simsat is light (no torch, timm or flwr). It arranges for its student models (resnet8,
resnet16) to be registered in timm's model registry, at once if timm is already imported and
otherwise when timm is, so ``timm.create_model("resnet8", num_classes=10)`` works afterwards.
"""

from __future__ import annotations

from simsat.models.timm_hook import register_when_timm_imported

__version__ = "0.1.0"

register_when_timm_imported()
