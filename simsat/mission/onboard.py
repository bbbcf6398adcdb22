"""What a satellite's computer does: train the student on its own images, encode imagery.

Plain functions, no Flower: the ClientApp calls them. A satellite trains on the images it has
acquired so far: with the ground's soft labels where it holds them (``distill``) or on its own
labels (``labels``), plus, as an option, a FixMatch-style term on its other images
(pseudo-labels from a weak view where the student is confident, learnt on a strong view).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from simsat.distill.device import resolve_device
from simsat.distill.losses import weighted_kd_loss
from simsat.distill.recipe import TrainRecipe
from simsat.distill.semi import SemiSupervised, consistency_loss
from simsat.distill.train import fit, torch_threads
from simsat.mission.knowledge import training_knowledge
from simsat.mission.packets import KnowledgePacket, ModelArrays, TrainReport, UpdatePacket
from simsat.models.inputs import Normalization, to_input
from simsat.models.registry import create_student

ONBOARD_MODES = ("distill", "labels", "none")
WARM_UP_EDGE = 32  # pixels of the blank images `warm_up` trains on


@dataclass(frozen=True)
class OnboardSetup:
    """Static facts every satellite node needs; small, so it travels with the ClientApp."""

    shards_dir: str
    model_name: str
    num_classes: int
    temperature: float
    training: TrainRecipe
    norm_mean: tuple[float, float, float]
    norm_std: tuple[float, float, float]
    mode: str = "distill"
    semi: SemiSupervised = SemiSupervised()
    keep_own_model: bool = False  # `local`: a satellite continues from its own model
    threads: int = 1
    image_size: int = 0  # the edge imagery is resampled to before encoding (0: native)
    image_quality: int = 90
    seed: int = 0  # the mission's seed; each training draws from it, the satellite and the version
    storage_dir: str = ""  # the nodes' onboard storage (empty: kept in the process that plays them)
    device: str = "cpu"  # where a node trains ("auto": a GPU its Ray worker was given, if any)


def shard_path(shards_dir: str | Path, satellite: int) -> Path:
    return Path(shards_dir) / f"satellite_{satellite:04d}.npz"


def save_shard(shards_dir: Path, satellite: int, images: np.ndarray, ids: np.ndarray, labels: np.ndarray) -> Path:
    """A satellite's images in acquisition order, with their ids and (true) labels."""
    path = shard_path(shards_dir, satellite)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=images, ids=ids, labels=labels)
    return path


@lru_cache(maxsize=64)
def load_shard(shards_dir: str, satellite: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A satellite's onboard images, ids and labels (read once per process)."""
    with np.load(shard_path(shards_dir, satellite)) as data:
        return data["images"], data["ids"], data["labels"]


def build_student(name: str, num_classes: int, weights: ModelArrays | None = None) -> torch.nn.Module:
    model = create_student(name, num_classes)
    if weights is not None:
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    return model


def warm_up(setup: OnboardSetup) -> None:
    """One training step of the student on blank images, as the onboard computer boots: torch's
    lazy start-up on the training path (the compiler stack its first optimiser imports, seconds
    of CPU) then happens before the mission, not inside the first training it waits for. The
    random state is left as it was (and `fit` seeds its own)."""
    with torch_threads(setup.threads), torch.random.fork_rng(devices=[]):
        model = build_student(setup.model_name, setup.num_classes)
        x = torch.zeros(2, 3, WARM_UP_EDGE, WARM_UP_EDGE)
        target = torch.zeros(2, dtype=torch.int64)
        fit(model, x, setup.training, lambda m, xb, idx: F.cross_entropy(m(xb), target[idx]))


def model_arrays(model: torch.nn.Module) -> ModelArrays:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def _held_rows(ids: np.ndarray, acquired: int, knowledge: KnowledgePacket) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the shard with a usable soft label, and the packet entries they match."""
    own = ids[:acquired]
    order = np.argsort(own, kind="stable")
    position = np.searchsorted(own[order], knowledge.ids)
    position = np.clip(position, 0, max(len(own) - 1, 0))
    held = (len(own) > 0) & (own[order][position] == knowledge.ids) & (knowledge.kd_weight > 0)
    return order[position[held]], np.flatnonzero(held)


def train_onboard(
    setup: OnboardSetup,
    satellite: int,
    images: np.ndarray,
    ids: np.ndarray,
    labels: np.ndarray,
    acquired: int,
    base_model: ModelArrays,
    version: int,
    knowledge: KnowledgePacket,
) -> tuple[UpdatePacket, TrainReport]:
    """Train `base_model` on the satellite's first `acquired` images; return the update.
    Runs on `setup.threads` torch threads; the caller's thread count is restored after."""
    with torch_threads(setup.threads):
        start = time.perf_counter()
        acquired = min(acquired, len(ids))
        model = build_student(setup.model_name, setup.num_classes, base_model)
        if setup.mode == "labels":
            rows = np.arange(acquired)
            entries = np.zeros(0, np.int64)
        elif setup.mode == "distill":
            rows, entries = _held_rows(ids, acquired, knowledge)
        else:
            rows = entries = np.zeros(0, np.int64)
        if rows.size == 0:
            report = TrainReport(0, float("nan"), time.perf_counter() - start)
            return UpdatePacket(version, model_arrays(model), 0, float("nan")), report

        norm = Normalization(mean=setup.norm_mean, std=setup.norm_std)
        config = setup.training
        seed = setup.seed * 100_003 + satellite * 1_009 + version
        x = to_input(images[rows], norm, channels_last=config.channels_last)
        others = np.setdiff1d(np.arange(acquired), rows)
        semi = setup.semi
        pool = (
            to_input(images[others], norm, channels_last=config.channels_last) if semi.active and others.size else None
        )
        generator = torch.Generator().manual_seed(seed + 17)
        unlabelled_seen = 0

        if setup.mode == "labels":
            y = torch.from_numpy(labels[rows].astype(np.int64))

            def target_loss(out: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
                return F.cross_entropy(out, y[idx])

        else:
            packet = training_knowledge(knowledge.take(entries))

            def target_loss(out: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
                return weighted_kd_loss(
                    out, packet.targets[idx], packet.kd_weight[idx], packet.ce_weight[idx], None, setup.temperature
                )

        def batch_loss(m: nn.Module, xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            nonlocal unlabelled_seen
            loss = target_loss(m(xb), idx)
            if pool is not None:
                count = semi.ratio * int(idx.numel())
                unlabelled_seen += count
                loss = loss + semi.weight * consistency_loss(m, pool, count, semi, generator)
            return loss

        stats = fit(model, x, config, batch_loss, seed=seed, device=resolve_device(setup.device, "device"))
        model = model.to(memory_format=torch.contiguous_format)
        update = UpdatePacket(version, model_arrays(model), int(rows.size), float(stats.mean_loss))
        report = TrainReport(int(rows.size), float(stats.mean_loss), time.perf_counter() - start, unlabelled_seen)
        return update, report
