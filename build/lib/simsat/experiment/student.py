"""Student training for the experiment: KD from teacher view logits, best epoch chosen on validation.

Uses the one training loop, simsat.distill.train.fit (optimiser, schedule, seeded batches,
channels_last), through its batch_loss callback. Augmentation happens inside batch_loss, so the
view drawn for each image is known and the teachers' logits for that same view are looked up.
The loop's end-of-epoch hook scores the student on the validation split and keeps the best
state_dict.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from simsat.data import ImageSet
from simsat.distill.losses import kd_loss
from simsat.distill.recipe import TrainRecipe
from simsat.distill.train import TrainHooks, evaluate, fit, labels_tensor
from simsat.errors import ConfigError
from simsat.experiment.views import apply_views
from simsat.models.inputs import Normalization

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
AUGMENT_SEED_OFFSET = 1_000_003  # the view generator's seed is the training seed + this


@dataclass
class StudentTraining:
    """What training one student did; `state` is the best epoch's state_dict (contiguous tensors)."""

    best_epoch: int  # 1-based
    curve: list[dict[str, float]]  # validation scores after each epoch
    state: dict[str, torch.Tensor]
    images_seen: int
    train_seconds: float  # optimisation only (validation passes excluded)
    validation_seconds: float
    mean_loss: float
    images_per_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.images_per_s = self.images_seen / max(self.train_seconds, 1e-9)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone(memory_format=torch.contiguous_format) for k, v in model.state_dict().items()}


@dataclass
class _EpochTracker:
    """Scores the model on validation after an epoch; keeps the best (first on ties) state_dict."""

    model: nn.Module
    validation: ImageSet
    norm: Normalization
    device: torch.device | None = None
    curve: list[dict[str, float]] = field(default_factory=list)
    best_accuracy: float = -1.0
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)
    seconds: float = 0.0

    def score(self, epoch: int) -> None:
        start = time.perf_counter()
        v = self.validation
        result = evaluate(self.model, v.images, v.labels, self.norm, len(v.class_names), device=self.device)
        self.curve.append({"epoch": epoch, **result.as_dict()})
        if result.accuracy > self.best_accuracy:
            self.best_accuracy, self.best_epoch, self.best_state = result.accuracy, epoch, _snapshot(self.model)
        self.seconds += time.perf_counter() - start
        logger.debug("epoch %d: validation accuracy %.4f", epoch, result.accuracy)


def train_student(
    model: nn.Module,
    x: torch.Tensor,
    labels: np.ndarray,
    view_logits: torch.Tensor | None,
    n_views: int,
    rule: str,
    temperature: float,
    cfg: TrainRecipe,
    validation: ImageSet,
    norm: Normalization,
    progress: Progress | None = None,
    *,
    seed: int,
    device: torch.device | None = None,
) -> StudentTraining:
    """Train `model` on normalised images `x` with kd_loss(rule); load and return its best epoch.

    view_logits: (K, n_views, N, C) teacher logits per view (None for rule 'none'). The
    student's batch is augmented with views (see views.view_count; 1 means no augmentation)
    drawn from a generator seeded by `seed`, so cfg.augment is not used here. Ties in
    validation accuracy keep the earlier epoch.
    """
    n = int(x.shape[0])
    y = labels_tensor(labels, n)
    if rule != "none" and view_logits is None:
        raise ConfigError(f"rule {rule!r} needs teacher logits")
    if view_logits is not None and tuple(view_logits.shape[1:3]) != (n_views, n):
        raise ConfigError(f"teacher logits {tuple(view_logits.shape)} do not cover {n_views} views of {n} images")
    aug_gen = torch.Generator().manual_seed(seed + AUGMENT_SEED_OFFSET)
    targets_of = None if rule == "none" else view_logits

    def batch_loss(m: nn.Module, xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        codes = torch.randint(0, n_views, (int(idx.numel()),), generator=aug_gen)
        xb = apply_views(xb, codes, n_views)
        targets = [] if targets_of is None else [t[codes, idx] for t in targets_of]
        return kd_loss(m(xb), targets, y[idx], rule, temperature)

    tracker = _EpochTracker(model, validation, norm, device)

    hooks = TrainHooks(on_batch=progress, on_epoch_end=tracker.score)
    stats = fit(model, x, dataclasses.replace(cfg, augment=False), batch_loss, hooks, seed=seed, device=device)
    if not tracker.best_state:
        raise RuntimeError("no epoch was scored on validation")
    model.load_state_dict(tracker.best_state)
    return StudentTraining(
        best_epoch=tracker.best_epoch,
        curve=tracker.curve,
        state=tracker.best_state,
        images_seen=stats.images_seen,
        train_seconds=max(stats.seconds - tracker.seconds, 1e-9),
        validation_seconds=tracker.seconds,
        mean_loss=stats.mean_loss,
    )
