"""Teacher logits for every augmented view of the training images, computed once and cached.

Student augmentation draws, per image, one of the 8 symmetries of a square (4 flip
combinations for non-square images), as simsat.distill.augment does. Teachers run in eval
mode, so their logits on a view are a fixed function of (image, view): computing them for all
views once gives exactly the logits an on-the-fly teacher pass would give on the student's
augmented batch, at 8 teacher passes per image for the whole experiment instead of one per
image, epoch, student, rule and seed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from simsat.config.experiment import TEACHER_TARGETS
from simsat.distill.augment import dihedral, flips
from simsat.distill.device import on_device
from simsat.distill.metrics import EvalResult, confusion_matrix, metrics_from_confusion
from simsat.distill.teacher_cache import save_atomic
from simsat.errors import ConfigError
from simsat.models.inputs import Normalization, to_input

logger = logging.getLogger(__name__)

ViewProgress = Callable[[int, int], None]


def view_count(height: int, width: int, augment: bool) -> int:
    """Number of distinct augmented views: 8 (square), 4 (non-square) or 1 (no augmentation)."""
    if not augment:
        return 1
    return 8 if height == width else 4


def view_op(x: torch.Tensor, code: int, n_views: int) -> torch.Tensor:
    """View `code` of a (B, C, H, W) batch; code 0 is the identity."""
    return dihedral(x, code) if n_views == 8 else flips(x, code)


def apply_views(x: torch.Tensor, codes: torch.Tensor, n_views: int) -> torch.Tensor:
    """Image i of the batch turned into view codes[i]; the memory format of `x` is kept."""
    if n_views == 1:
        return x
    out = torch.empty_like(x)
    for code in range(n_views):
        idx = torch.nonzero(codes == code).squeeze(1)
        if idx.numel():
            out[idx] = view_op(x[idx], code, n_views)
    return out


def compute_view_logits(
    teacher: nn.Module,
    x: torch.Tensor,
    n_views: int,
    batch_size: int = 256,
    progress: ViewProgress | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """(n_views, N, C) logits of `teacher` (eval mode, no gradient) on every view of `x`, run on `device`."""
    was_training = teacher.training
    net = on_device(teacher, device)
    teacher.eval()
    n = int(x.shape[0])
    outs: list[torch.Tensor] = []
    try:
        with torch.no_grad():
            for code in range(n_views):
                chunks = []
                for start in range(0, n, batch_size):
                    chunks.append(net(view_op(x[start : start + batch_size], code, n_views)).float())
                    if progress is not None:
                        progress(code * n + min(start + batch_size, n), n_views * n)
                outs.append(torch.cat(chunks))
    finally:
        teacher.train(was_training)
    return torch.stack(outs)


def view_logits_path(cache_dir: Path, name: str, teacher_key: str, images_fingerprint: str, n_views: int) -> Path:
    """Where cached_view_logits keeps one teacher's logits on every view of one set of images."""
    digest = hashlib.sha256(f"{teacher_key}|{images_fingerprint}|views{n_views}|v1".encode()).hexdigest()
    return Path(cache_dir) / f"{name}-{teacher_key[:12]}-views{n_views}-{digest[:16]}.pt"


def cached_view_logits(
    teacher: nn.Module,
    teacher_key: str,
    name: str,
    x: torch.Tensor,
    images_fingerprint: str,
    n_views: int,
    cache_dir: Path,
    progress: ViewProgress | None = None,
    device: torch.device | None = None,
) -> tuple[torch.Tensor, bool]:
    """(logits (n_views, N, C), cache hit) for a teacher identified by its cache key."""
    path = view_logits_path(cache_dir, name, teacher_key, images_fingerprint, n_views)
    if path.is_file():
        try:
            logits = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(logits, torch.Tensor) and logits.shape[:2] == (n_views, x.shape[0]):
                logger.info("teacher %s: view logits loaded from %s", name, path)
                return logits, True
        except Exception as exc:  # noqa: BLE001 - an unreadable cache file is recomputed
            logger.warning("ignoring unusable logits cache %s: %s", path, exc)
    logits = compute_view_logits(teacher, x, n_views, progress=progress, device=device)
    save_atomic(logits, path)
    logger.info("teacher %s: logits on %d views of %d images cached at %s", name, n_views, x.shape[0], path)
    return logits, False


def teacher_targets(view_logits: torch.Tensor, how: str) -> torch.Tensor:
    """The logits students distil from, (K, n_views, N, C), from the teachers' view logits.

    "view": each teacher's logits on the very view the student sees. "mean": its logits
    averaged over all views (test-time augmentation of the teacher), the same target for every
    view of an image, which is sound where the classes do not change under flips and turns.
    """
    if how == "view":
        return view_logits
    if how == "mean":
        return view_logits.mean(dim=1, keepdim=True).expand_as(view_logits).contiguous()
    raise ConfigError(f"teacher_targets must be one of {', '.join(TEACHER_TARGETS)}, got {how!r}")


def view_probabilities(models: list[nn.Module], images: np.ndarray, norm: Normalization, n_views: int) -> torch.Tensor:
    """(K, n_views, N, C) softmax of each of `models` on every view of `images`; view 0 is the image itself.

    One pass per model and view: plain scores, test-time augmentation and ensembles are all read
    from this tensor (probabilities_scores), so none of them runs a model again.
    """
    if not models:
        raise ConfigError("view_probabilities needs at least one model")
    x = to_input(images, norm, channels_last=False)
    return torch.stack([compute_view_logits(m, x, n_views).softmax(dim=-1) for m in models])


def probabilities_scores(probs: torch.Tensor, labels: np.ndarray, num_classes: int) -> EvalResult:
    """Metrics of (N, C) class probabilities: argmax predictions, mean negative log-likelihood."""
    y = np.asarray(labels, dtype=np.int64)
    if probs.shape != (len(y), num_classes):
        raise ConfigError(f"probabilities have shape {tuple(probs.shape)}, expected ({len(y)}, {num_classes})")
    loss = float(-torch.log(probs[torch.arange(len(y)), torch.from_numpy(y)].clamp_min(1e-12)).mean())
    return metrics_from_confusion(confusion_matrix(y, probs.argmax(dim=1).numpy(), num_classes), loss)


def ensemble_scores(
    models: list[nn.Module],
    images: np.ndarray,
    labels: np.ndarray,
    norm: Normalization,
    num_classes: int,
    n_views: int,
) -> EvalResult:
    """Metrics of the mean softmax over `models` and over `n_views` views of each image.

    One model and one view is plain evaluation; more views is test-time augmentation; more
    models is the ensemble a student distils from.
    """
    if not models:
        raise ConfigError("ensemble_scores needs at least one model")
    probs = view_probabilities(models, images, norm, n_views).mean(dim=(0, 1))
    return probabilities_scores(probs, labels, num_classes)
