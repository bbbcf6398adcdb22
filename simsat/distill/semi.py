"""The FixMatch-style consistency term on images without a target.

A weak view (flip / quarter turn) of each unlabelled image gives a pseudo-label where the model
is confident (max softmax >= threshold); the model then learns that label on a strong view
(:func:`simsat.distill.augment.strong_augment`). Used on board (a satellite's own images) and by
central probes; plain torch, no mission or Flower types.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from simsat.distill.augment import random_flip_rotate, strong_augment

__all__ = ["SemiSupervised", "consistency_loss"]


@dataclass(frozen=True)
class SemiSupervised:
    """The consistency term's settings (off when weight is 0)."""

    weight: float = 0.0
    threshold: float = 0.95
    ratio: int = 2  # unlabelled images per image with a target, in each batch

    @property
    def active(self) -> bool:
        return self.weight > 0


def consistency_loss(
    model: nn.Module, pool: torch.Tensor, count: int, semi: SemiSupervised, generator: torch.Generator
) -> torch.Tensor:
    """Mean masked cross-entropy of `count` images drawn (with replacement) from `pool`, a
    normalised (N, 3, H, W) tensor; images below the confidence threshold count as zero."""
    pick = torch.randint(0, int(pool.shape[0]), (count,), generator=generator)
    batch = pool[pick]
    with torch.no_grad():
        weak = torch.softmax(model(random_flip_rotate(batch, generator)), dim=1)
    confidence, pseudo = weak.max(dim=1)
    mask = (confidence >= semi.threshold).float()
    strong = model(strong_augment(batch, generator))
    return (F.cross_entropy(strong, pseudo, reduction="none") * mask).mean()
