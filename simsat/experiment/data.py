"""Train / validation / test images for the centralized experiment (synthetic or EuroSAT)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simsat.config.experiment import ExperimentDataConfig
from simsat.data import ImageSet, load_eurosat, load_eurosat_splits, synthetic_imageset
from simsat.data.partition import stratified_take_per_class
from simsat.errors import ConfigError

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class ExperimentData:
    """The three splits and a one-line description of where they came from."""

    train: ImageSet
    validation: ImageSet
    test: ImageSet
    source: str

    @property
    def num_classes(self) -> int:
        return len(self.train.class_names)

    def sizes(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in SPLITS}


def stratified_split(
    labels: np.ndarray, validation_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted (train, validation, test) indices; each class shared in the given proportions."""
    rng = np.random.default_rng([seed, 11])
    pool = np.arange(len(labels))
    test = stratified_take_per_class(labels, pool, test_fraction, rng)
    pool = np.setdiff1d(pool, test)
    validation = stratified_take_per_class(labels, pool, validation_fraction / (1.0 - test_fraction), rng)
    train = np.setdiff1d(pool, validation)
    return train, validation, test


def _limit(images: ImageSet, max_images: int, seed: int, split: str) -> ImageSet:
    if max_images <= 0 or len(images) <= max_images:
        return images
    rng = np.random.default_rng([seed, 13, SPLITS.index(split)])
    return images.subset(np.sort(rng.choice(len(images), size=max_images, replace=False)))


def load_experiment_data(cfg: ExperimentDataConfig, seed: int) -> ExperimentData:
    """Synthetic or EuroSAT images split into train / validation / test (fixed CSVs when given)."""
    cache = Path(cfg.cache_dir) / "eurosat"
    if cfg.source == "eurosat" and cfg.split_dir:
        parts = load_eurosat_splits(Path(cfg.path).expanduser(), Path(cfg.split_dir).expanduser(), cache)
        source = f"EuroSAT {cfg.path} with the split files in {cfg.split_dir}"
    else:
        if cfg.source == "synthetic":
            data = synthetic_imageset(cfg.n_images, seed)
            source = f"synthetic, {cfg.n_images} images, seed {seed}"
        elif cfg.source == "eurosat":
            data = load_eurosat(Path(cfg.path).expanduser(), cache_dir=cache)
            source = f"EuroSAT {cfg.path}, stratified split with seed {seed}"
        else:
            raise ConfigError(f"data.source must be synthetic or eurosat, got {cfg.source!r}")
        index = stratified_split(data.labels, cfg.validation_fraction, cfg.test_fraction, seed)
        parts = {name: data.subset(idx) for name, idx in zip(SPLITS, index, strict=True)}
    parts = {name: _limit(parts[name], cfg.max_per_split, seed, name) for name in SPLITS}
    for name in SPLITS:
        minimum = 2 if name == "train" else 1
        if len(parts[name]) < minimum:
            raise ConfigError(f"data: the {name} split holds {len(parts[name])} image(s); it needs >= {minimum}")
    if cfg.max_per_split > 0:
        source += f", at most {cfg.max_per_split} images per split"
    result = ExperimentData(parts["train"], parts["validation"], parts["test"], source)
    logger.info("data: %s; %s", source, result.sizes())
    return result
