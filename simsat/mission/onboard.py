"""What a satellite's computer does: train the global student on its own images and soft labels.

Plain functions, no Flower: the ClientApp calls them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from simsat.distill.train import TrainConfig, train_distill
from simsat.mission.knowledge import training_knowledge
from simsat.mission.packets import KnowledgePacket, ModelArrays, TrainReport, UpdatePacket
from simsat.models.inputs import Normalization
from simsat.models.registry import create_student


@dataclass(frozen=True)
class OnboardSetup:
    """Static facts every satellite node needs; small, so it travels with the ClientApp."""

    shards_dir: str
    model_name: str
    num_classes: int
    temperature: float
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    norm_mean: tuple[float, float, float]
    norm_std: tuple[float, float, float]
    seed: int
    threads: int = 1


def shard_path(shards_dir: str | Path, satellite: int) -> Path:
    return Path(shards_dir) / f"satellite_{satellite:04d}.npz"


def save_shard(shards_dir: Path, satellite: int, images: np.ndarray, ids: np.ndarray) -> Path:
    path = shard_path(shards_dir, satellite)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=images, ids=ids)
    return path


@lru_cache(maxsize=64)
def load_shard(shards_dir: str, satellite: int) -> tuple[np.ndarray, np.ndarray]:
    """A satellite's onboard images and their ids (read once per process)."""
    with np.load(shard_path(shards_dir, satellite)) as data:
        return data["images"], data["ids"]


def build_student(name: str, num_classes: int, weights: ModelArrays | None = None) -> torch.nn.Module:
    model = create_student(name, num_classes)
    if weights is not None:
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    return model


def model_arrays(model: torch.nn.Module) -> ModelArrays:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def train_onboard(
    setup: OnboardSetup,
    satellite: int,
    images: np.ndarray,
    ids: np.ndarray,
    global_model: ModelArrays,
    version: int,
    knowledge: KnowledgePacket,
) -> tuple[UpdatePacket, TrainReport]:
    """Train the global student on the images the satellite holds soft labels for.

    The satellite has no labels of its own, so the loss is the distillation term alone.
    """
    start = time.perf_counter()
    torch.set_num_threads(setup.threads)
    position = np.searchsorted(ids, knowledge.ids)
    position = np.clip(position, 0, max(len(ids) - 1, 0))
    held = (len(ids) > 0) & (ids[position] == knowledge.ids) & (knowledge.kd_weight > 0)
    rows = position[held]
    model = build_student(setup.model_name, setup.num_classes, global_model)
    if rows.size == 0:
        report = TrainReport(0, float("nan"), time.perf_counter() - start)
        return UpdatePacket(version, model_arrays(model), 0, float("nan")), report
    batch = training_knowledge(knowledge.take(held))
    config = TrainConfig(
        epochs=setup.epochs,
        batch_size=setup.batch_size,
        lr=setup.lr,
        weight_decay=setup.weight_decay,
        schedule="onecycle",
        augment=True,
        channels_last=True,
        seed=setup.seed * 100_003 + satellite * 1_009 + version,
    )
    norm = Normalization(mean=setup.norm_mean, std=setup.norm_std)
    stats = train_distill(model, images[rows], batch, None, setup.temperature, config, norm)
    model = model.to(memory_format=torch.contiguous_format)
    update = UpdatePacket(version, model_arrays(model), int(rows.size), float(stats.mean_loss))
    return update, TrainReport(int(rows.size), float(stats.mean_loss), time.perf_counter() - start)
