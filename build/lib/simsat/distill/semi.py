"""The FixMatch-style consistency term on images without a target.

A weak view (flip / quarter turn) of each unlabelled image gives a pseudo-label where the model
is confident (max softmax >= threshold); the model then learns that label on a strong view
(:func:`simsat.distill.augment.strong_augment`). Used on board (a satellite's own images), by
the ground's teacher refresh (:func:`train_semi_supervised` on the imagery it received) and by
central probes; plain torch, no mission or Flower types.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from simsat.distill.augment import random_flip_rotate, strong_augment
from simsat.distill.recipe import TrainRecipe
from simsat.distill.train import TrainHooks, TrainStats, fit, labels_tensor
from simsat.models.inputs import Normalization, to_input

__all__ = ["SemiSupervised", "consistency_loss", "train_semi_supervised"]


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


def train_semi_supervised(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    unlabelled: np.ndarray,
    cfg: TrainRecipe,
    norm: Normalization,
    semi: SemiSupervised,
    hooks: TrainHooks | None = None,
    *,
    seed: int = 0,
    device: torch.device | None = None,
) -> TrainStats:
    """Cross-entropy on the labelled `images` plus, when `semi` is active and there are
    `unlabelled` images (uint8, like `images`), the consistency term on `semi.ratio` of them per
    labelled image in each batch. An epoch is one pass over the labelled images; the draws come
    from `seed`. With the term off it is plain supervised training on the labels."""
    x = to_input(images, norm, channels_last=cfg.channels_last)
    y = labels_tensor(labels, int(x.shape[0]))
    use_pool = semi.active and len(unlabelled) > 0
    pool = to_input(unlabelled, norm, channels_last=cfg.channels_last) if use_pool else None
    generator = torch.Generator().manual_seed(seed + 17)

    def batch_loss(m: nn.Module, xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        loss = F.cross_entropy(m(xb), y[idx])
        if pool is None:
            return loss
        return loss + semi.weight * consistency_loss(m, pool, semi.ratio * int(idx.numel()), semi, generator)

    return fit(model, x, cfg, batch_loss, hooks, seed=seed, device=device)
