"""Plain-PyTorch training and evaluation loops for students and teachers (CPU friendly).

Images are converted once per call to a normalised float tensor; batches are drawn from a
seeded permutation (no DataLoader); augmentation is per-image random flips / quarter turns.
Same inputs and seed give identical weights on CPU.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from simsat.distill.augment import random_flip_rotate
from simsat.distill.device import on_device
from simsat.distill.losses import Knowledge, weighted_kd_loss
from simsat.distill.metrics import EvalResult, confusion_matrix, metrics_from_confusion
from simsat.distill.recipe import TrainRecipe
from simsat.errors import ConfigError, TrainingDiverged
from simsat.models.inputs import Normalization, check_images, to_input

__all__ = [
    "EvalResult",
    "TrainHooks",
    "TrainStats",
    "evaluate",
    "fit",
    "labels_tensor",
    "predict_logits",
    "train_distill",
    "torch_threads",
    "train_supervised",
]

logger = logging.getLogger(__name__)

STEP_SIZE_EPOCHS = 7  # StepLR(7, 0.1) as in the paper
STEP_GAMMA = 0.1

Progress = Callable[[int, int], None]
BatchLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run with ``threads`` intra-op threads, restoring the previous count afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class TrainHooks:
    """Callbacks of the training loop: after every batch (images done, images total) and at the
    end of every epoch (1-based epoch number; the model is in train mode and may be scored)."""

    on_batch: Progress | None = None
    on_epoch_end: Callable[[int], None] | None = None


@dataclass
class TrainStats:
    """What one training call did (mean_loss is NaN when nothing was trained)."""

    images_seen: int
    seconds: float
    mean_loss: float
    images_per_s: float


def batch_order(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Shuffled index batches; a trailing batch of one image joins the previous one (BatchNorm)."""
    perm = torch.randperm(n, generator=generator)
    chunks = list(torch.split(perm, batch_size))
    if len(chunks) > 1 and chunks[-1].numel() == 1:
        last = chunks.pop()
        chunks[-1] = torch.cat([chunks[-1], last])
    return chunks


def _scheduler(
    opt: torch.optim.Optimizer, cfg: TrainRecipe, steps_per_epoch: int
) -> tuple[torch.optim.lr_scheduler.LRScheduler | None, bool]:
    """(scheduler, steps_per_batch)."""
    if cfg.schedule == "onecycle":
        total = max(cfg.epochs * steps_per_epoch, 1)
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total), True
    if cfg.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=STEP_SIZE_EPOCHS, gamma=STEP_GAMMA), False
    if cfg.schedule == "constant":
        return None, False
    raise ValueError(f"unknown schedule {cfg.schedule!r}")


def _check_weights(model: nn.Module, cfg: TrainRecipe) -> None:
    """TrainingDiverged when a step left a weight NaN or infinite (the loss before it was finite)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if not bool(torch.isfinite(param).all()):
                raise TrainingDiverged(
                    f"training diverged: weight {name} became NaN or infinite (learning rate {cfg.lr:g})"
                )


def fit(
    model: nn.Module,
    x: torch.Tensor,
    cfg: TrainRecipe,
    batch_loss: BatchLoss,
    hooks: TrainHooks | None = None,
    *,
    seed: int = 0,
    device: torch.device | None = None,
) -> TrainStats:
    """The one training loop (AdamW, cfg's schedule, batches and flips/rotations drawn from `seed`).

    With a `device` other than the CPU the model trains there (see `simsat.distill.device`) and
    is left there; the batches and the loss stay on the CPU.

    batch_loss(model, inputs, index) returns the scalar loss for the (augmented) inputs of the
    images at `index` of `x`; it may add terms of its own (e.g. on other, unlabelled images).
    A loss that is NaN or infinite (or weights that became so) raises TrainingDiverged before
    the optimiser steps on it; the model's weights are then those of the last good step.
    """
    hooks = hooks or TrainHooks()
    n = int(x.shape[0])
    if cfg.epochs == 0 or n == 0:
        return TrainStats(images_seen=0, seconds=0.0, mean_loss=float("nan"), images_per_s=0.0)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model.to(memory_format=fmt)
    net = on_device(model, device)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(batch_order(n, cfg.batch_size, torch.Generator().manual_seed(0)))
    sched, per_batch = _scheduler(opt, cfg, steps_per_epoch)
    total_images = cfg.epochs * n
    seen, loss_sum = 0, 0.0
    start = time.perf_counter()
    try:
        for epoch in range(cfg.epochs):
            for batch, idx in enumerate(batch_order(n, cfg.batch_size, gen)):
                xb = x[idx]
                if cfg.augment:
                    xb = random_flip_rotate(xb, gen)
                loss = batch_loss(net, xb, idx)
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"training diverged: the loss became {value} at epoch {epoch + 1}, batch {batch + 1}"
                        f" (learning rate {cfg.lr:g})"
                    )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sched is not None and per_batch:
                    sched.step()
                seen += int(idx.numel())
                loss_sum += value * int(idx.numel())
                if hooks.on_batch is not None:
                    hooks.on_batch(seen, total_images)
            if sched is not None and not per_batch:
                sched.step()
            if hooks.on_epoch_end is not None:
                hooks.on_epoch_end(epoch + 1)
        _check_weights(model, cfg)
    finally:
        model.to(memory_format=torch.contiguous_format)
    seconds = time.perf_counter() - start
    return TrainStats(
        images_seen=seen, seconds=seconds, mean_loss=loss_sum / seen, images_per_s=seen / max(seconds, 1e-9)
    )


def labels_tensor(labels: np.ndarray, n: int, what: str = "labels") -> torch.Tensor:
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise ConfigError(f"{what} must have shape ({n},), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ConfigError(f"{what} must be integers, got {arr.dtype}")
    return torch.from_numpy(arr.astype(np.int64))


def train_supervised(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    cfg: TrainRecipe,
    norm: Normalization,
    progress: Progress | None = None,
    *,
    seed: int = 0,
    hooks: TrainHooks | None = None,
    device: torch.device | None = None,
) -> TrainStats:
    """Cross-entropy training; progress(images_done, images_total) after every batch (or `hooks`)."""
    x = to_input(images, norm, channels_last=cfg.channels_last)
    y = labels_tensor(labels, int(x.shape[0]))

    def batch_loss(m: nn.Module, xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(m(xb), y[idx])

    return fit(model, x, cfg, batch_loss, hooks or TrainHooks(on_batch=progress), seed=seed, device=device)


def train_distill(
    model: nn.Module,
    images: np.ndarray,
    knowledge: Knowledge,
    labels: np.ndarray | None,
    temperature: float,
    cfg: TrainRecipe,
    norm: Normalization,
    progress: Progress | None = None,
    *,
    seed: int = 0,
    device: torch.device | None = None,
) -> TrainStats:
    """Distillation on a knowledge packet (weighted_kd_loss); CE added where labels are given (>= 0)."""
    x = to_input(images, norm, channels_last=cfg.channels_last)
    n = int(x.shape[0])
    if len(knowledge) != n:
        raise ConfigError(f"knowledge covers {len(knowledge)} images but {n} images were given")
    y = None if labels is None else labels_tensor(labels, n)

    def batch_loss(m: nn.Module, xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return weighted_kd_loss(
            m(xb),
            knowledge.targets[idx],
            knowledge.kd_weight[idx],
            knowledge.ce_weight[idx],
            None if y is None else y[idx],
            temperature,
        )

    return fit(model, x, cfg, batch_loss, TrainHooks(on_batch=progress), seed=seed, device=device)


def predict_logits(
    model: nn.Module,
    images: np.ndarray,
    norm: Normalization,
    batch_size: int = 256,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Logits (N, C) on the CPU, in eval mode without gradient; the model's train/eval mode is
    restored. With a `device` the model runs there (and is left there)."""
    check_images(images)
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    was_training = model.training
    net = on_device(model, device)
    model.eval()
    outs = []
    try:
        with torch.no_grad():
            for start in range(0, images.shape[0], batch_size):
                outs.append(net(to_input(images[start : start + batch_size], norm)))
    finally:
        model.train(was_training)
    return torch.cat(outs)


def evaluate(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    norm: Normalization,
    num_classes: int,
    batch_size: int = 256,
    device: torch.device | None = None,
) -> EvalResult:
    """Accuracy, macro precision / recall / F1, mean CE loss and confusion matrix."""
    logits = predict_logits(model, images, norm, batch_size, device)
    y = labels_tensor(labels, int(logits.shape[0]))
    if logits.shape[1] != num_classes:
        raise ConfigError(f"model has {logits.shape[1]} outputs but num_classes is {num_classes}")
    conf = confusion_matrix(y.numpy(), logits.argmax(dim=1).numpy(), num_classes)
    loss = float(F.cross_entropy(logits, y))
    return metrics_from_confusion(conf, loss)
