"""Splitting a dataset into ground, validation, test and per-satellite shards (IID or non-IID)."""

from __future__ import annotations

import numpy as np

from simsat.data.imageset import ImageSet, MissionData
from simsat.data.synthetic import CLASS_NAMES, generate_synthetic
from simsat.errors import ConfigError


def partition_iid(labels: np.ndarray, n_parts: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle and deal the indices into `n_parts` near-equal parts."""
    order = rng.permutation(len(labels))
    return [np.sort(part) for part in np.array_split(order, n_parts)]


def partition_dirichlet(
    labels: np.ndarray, n_parts: int, alpha: float, rng: np.random.Generator, min_size: int = 1
) -> list[np.ndarray]:
    """Label-skewed parts: each class is divided among parts by proportions ~ Dirichlet(alpha).

    Small alpha gives each part few classes; large alpha approaches IID. Redraws until every
    part holds at least `min_size` indices (after 100 tries, tops up the smallest parts).
    """
    if n_parts * min_size > len(labels):
        raise ConfigError(f"cannot give {n_parts} satellites {min_size} image(s) each from {len(labels)} images")
    classes = np.unique(labels)
    for _ in range(100):
        parts: list[list[np.ndarray]] = [[] for _ in range(n_parts)]
        for c in classes:
            members = rng.permutation(np.flatnonzero(labels == c))
            cuts = (np.cumsum(rng.dirichlet(np.full(n_parts, alpha))) * len(members)).astype(int)[:-1]
            for part, chunk in zip(parts, np.split(members, cuts)):
                part.append(chunk)
        result = [np.sort(np.concatenate(p)) for p in parts]
        if min(len(p) for p in result) >= min_size:
            return result
    sizes = np.array([len(p) for p in result])
    while sizes.min() < min_size:  # move images from the largest part to the smallest
        big, small = int(sizes.argmax()), int(sizes.argmin())
        result[small] = np.sort(np.append(result[small], result[big][-1]))
        result[big] = result[big][:-1]
        sizes = np.array([len(p) for p in result])
    return result


def _stratified_take(labels: np.ndarray, pool: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """About `fraction` of `pool` (indices into labels), the same share of every class."""
    taken = []
    for c in np.unique(labels[pool]):
        members = rng.permutation(pool[labels[pool] == c])
        taken.append(members[: int(round(fraction * len(members)))])
    return np.sort(np.concatenate(taken))


def split_mission(
    data: ImageSet,
    n_satellites: int,
    ground_fraction: float,
    validation_fraction: float,
    test_fraction: float,
    partition: str,
    alpha: float,
    seed: int,
) -> MissionData:
    """Stratified ground / validation / test pieces; the rest shared among satellites."""
    for key, value in (
        ("data.ground_fraction", ground_fraction),
        ("data.validation_fraction", validation_fraction),
        ("data.test_fraction", test_fraction),
    ):
        if not 0 < value < 1:
            raise ConfigError(f"{key} must be between 0 and 1, got {value}")
    if ground_fraction + validation_fraction + test_fraction >= 1:
        raise ConfigError("data fractions (ground + validation + test) must be < 1")
    if n_satellites < 1:
        raise ConfigError(f"number of satellites must be >= 1, got {n_satellites}")
    rng = np.random.default_rng([seed, 7])
    labels = data.labels
    pool = np.arange(len(data))
    pieces = {}
    remaining_share = 1.0
    for name, share in (("test", test_fraction), ("validation", validation_fraction), ("ground", ground_fraction)):
        pieces[name] = _stratified_take(labels, pool, share / remaining_share, rng)
        pool = np.setdiff1d(pool, pieces[name])
        remaining_share -= share
    if partition == "iid":
        shards = partition_iid(labels[pool], n_satellites, rng)
    elif partition == "dirichlet":
        if alpha <= 0:
            raise ConfigError(f"data.alpha must be > 0, got {alpha}")
        shards = partition_dirichlet(labels[pool], n_satellites, alpha, rng)
    else:
        raise ConfigError(f"data.partition must be 'iid' or 'dirichlet', got {partition!r}")
    return MissionData(
        ground=data.subset(pieces["ground"]),
        satellites=[data.subset(pool[s]) for s in shards],
        validation=data.subset(pieces["validation"]),
        test=data.subset(pieces["test"]),
    )


def synthetic_imageset(n_images: int, seed: int, image_size: int = 64) -> ImageSet:
    images, labels = generate_synthetic(n_images, seed, image_size)
    return ImageSet(images, labels, np.arange(n_images, dtype=np.int64), CLASS_NAMES)


def synthetic_mission(
    n_images: int,
    n_satellites: int,
    seed: int,
    ground_fraction: float = 0.3,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.15,
    partition: str = "dirichlet",
    alpha: float = 0.5,
) -> MissionData:
    """The built-in synthetic dataset split for a mission."""
    data = synthetic_imageset(n_images, seed)
    return split_mission(
        data, n_satellites, ground_fraction, validation_fraction, test_fraction, partition, alpha, seed
    )
