"""Train teachers once and cache their weights on disk, keyed by everything that shapes them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import timm
import torch
from torch import nn

from simsat.distill.recipe import TrainRecipe
from simsat.distill.train import train_supervised
from simsat.errors import ConfigError
from simsat.models.inputs import Normalization
from simsat.models.teachers import ResizedInput, create_teacher, read_state_dict
from simsat.results.atomic import write_text, write_with

logger = logging.getLogger(__name__)

TeacherProgress = Callable[[str, int, int], None]  # (teacher name, images done, images total)


@dataclass(frozen=True)
class TeacherSpec:
    """One teacher: timm name, input size, fine-tuning schedule and optional local checkpoint."""

    name: str
    input_size: int = 64
    epochs: int = 2
    lr: float = 2e-3
    batch_size: int = 64
    checkpoint: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("teacher name must not be empty")
        if self.input_size < 8:
            raise ConfigError(f"teacher {self.name}: input_size must be >= 8, got {self.input_size}")
        if self.epochs < 0:
            raise ConfigError(f"teacher {self.name}: epochs must be >= 0, got {self.epochs}")

    def recipe(self) -> TrainRecipe:
        return TrainRecipe(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(spec: TeacherSpec, seed: int, data_fingerprint: str, norm: Normalization, num_classes: int) -> str:
    """sha256 of a canonical JSON of everything the trained weights are defined by.

    The torch and timm versions are left out: a teacher trained under one release is the same
    teacher under the next (hours of CPU training are not thrown away by a patch upgrade), and the
    versions it was trained with are kept in its metadata (`trained_with`).
    """
    checkpoint_sha = None
    if spec.checkpoint is not None:
        path = Path(spec.checkpoint)
        if not path.is_file():
            raise ConfigError(f"teacher {spec.name}: checkpoint file not found: {path}")
        checkpoint_sha = _file_sha256(path)
    payload: dict[str, Any] = {
        "spec": dataclasses.asdict(spec),
        "checkpoint_sha256": checkpoint_sha,
        "train": {**dataclasses.asdict(spec.recipe()), "seed": seed},  # the recipe and seed, as keys always had
        "seed": seed,
        "data": data_fingerprint,
        "norm": norm.as_dict(),
        "num_classes": num_classes,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def save_atomic(obj: object, path: Path) -> None:
    """torch.save `obj` to `path` atomically (creating its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_with(path, lambda fh: torch.save(obj, fh))


def _load_cached(model: ResizedInput, path: Path) -> bool:
    """Load a cached state_dict; False (and a warning) when the file is unusable."""
    try:
        model.model.load_state_dict(read_state_dict(path), strict=True)
        return True
    except (ConfigError, RuntimeError) as exc:
        logger.warning("ignoring unusable teacher cache file %s: %s", path, exc)
        return False


def versions_file(weights: Path) -> Path:
    """The file beside a cached teacher's weights that records the versions it was trained with."""
    return weights.with_suffix(".versions.json")


def training_file(weights: Path) -> Path:
    """The file beside a cached teacher's weights that records how its training went (time, rate, loss)."""
    return weights.with_suffix(".training.json")


def records_beside(weights: Path) -> tuple[Path, Path]:
    """Every record kept beside a cached teacher's weights (versions, training), to move along with them."""
    return versions_file(weights), training_file(weights)


def _write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(payload, sort_keys=True))


def _read_json_record(target: Path) -> dict[str, Any] | None:
    """A small JSON object kept beside cached weights; None where it is missing or unreadable."""
    if not target.is_file():
        return None
    try:
        record = json.loads(target.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        logger.warning("ignoring unreadable %s: %s", target, exc)
        return None
    return record if isinstance(record, dict) else None


def train_or_load_teachers(
    specs: Sequence[TeacherSpec],
    images: np.ndarray,
    labels: np.ndarray,
    norm: Normalization,
    num_classes: int,
    data_fingerprint: str,
    cache_dir: Path,
    seed: int,
    progress: TeacherProgress | None = None,
    device: torch.device | None = None,
) -> list[tuple[nn.Module, dict[str, Any]]]:
    """Per spec: the teacher (eval mode) and metadata {name, key, cache_file, cache_hit, train_seconds, ...}.

    A cached state_dict is used when one exists for the key; otherwise the teacher is built
    (from its checkpoint when given), fine-tuned for spec.epochs on (images, labels), and saved.
    train_seconds, images_per_s and mean_loss are this run's (None on a cache hit); `training`
    is the record kept beside the weights when they were trained ({seconds, images_per_s,
    mean_loss, epochs}; None for weights cached before such records were kept).
    """
    results: list[tuple[nn.Module, dict[str, Any]]] = []
    for spec in specs:
        key = cache_key(spec, seed, data_fingerprint, norm, num_classes)
        path = Path(cache_dir) / f"{spec.name}-{key[:20]}.pt"
        torch.manual_seed(seed)
        checkpoint = Path(spec.checkpoint) if spec.checkpoint is not None else None
        meta: dict[str, Any] = {"name": spec.name, "key": key, "cache_file": str(path), "input_size": spec.input_size}
        if path.is_file():
            model = create_teacher(spec.name, num_classes, spec.input_size)
            if _load_cached(model, path):
                logger.info("teacher %s loaded from cache %s", spec.name, path)
                # not trained in this run: its training figures are unknown here, not zero
                meta.update(cache_hit=True, train_seconds=None, images_per_s=None, mean_loss=None)
                meta["trained_with"] = _read_json_record(versions_file(path))
                meta["training"] = _read_json_record(training_file(path))
                results.append((model.eval(), meta))
                continue
        model = create_teacher(spec.name, num_classes, spec.input_size, checkpoint)
        report = None if progress is None else (lambda done, total, n=spec.name: progress(n, done, total))
        start = time.perf_counter()
        stats = train_supervised(model, images, labels, spec.recipe(), norm, report, seed=seed, device=device)
        model = model.cpu()  # kept and returned on the CPU, as a cached one is
        seconds = time.perf_counter() - start
        trained_with = {"torch": torch.__version__, "timm": timm.__version__}
        save_atomic(model.model.state_dict(), path)
        training = {
            "seconds": seconds,
            "images_per_s": stats.images_per_s,
            "epochs": spec.epochs,
            "mean_loss": stats.mean_loss if math.isfinite(stats.mean_loss) else None,
        }
        _write_json_atomic(versions_file(path), trained_with)
        _write_json_atomic(training_file(path), training)
        if spec.epochs > 0:
            logger.info(
                "teacher %s trained in %.1f s (%.0f images/s), cached at %s",
                spec.name,
                seconds,
                stats.images_per_s,
                path,
            )
        else:
            logger.info("teacher %s used as built, not trained (epochs 0), cached at %s", spec.name, path)
        meta.update(
            cache_hit=False,
            train_seconds=seconds,
            images_per_s=stats.images_per_s,
            mean_loss=training["mean_loss"],
            trained_with=trained_with,
            training=training,
        )
        results.append((model.eval(), meta))
    return results
