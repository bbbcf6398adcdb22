"""Splitting a dataset into ground, validation, test and per-satellite shards (IID or non-IID)."""

from __future__ import annotations

import numpy as np

from simsat.data.imageset import ImageSet, MissionData
from simsat.data.synthetic import CLASS_NAMES, generate_synthetic
from simsat.errors import ConfigError

PARTITIONS: tuple[str, ...] = ("iid", "dirichlet")


def _check_parts(n_items: int, n_parts: int, min_size: int = 1) -> None:
    if isinstance(n_parts, bool) or not isinstance(n_parts, (int, np.integer)) or n_parts < 1:
        raise ConfigError(f"n_satellites must be an integer >= 1, got {n_parts!r}")
    if n_parts * min_size > n_items:
        raise ConfigError(
            f"n_satellites: cannot give {n_parts} satellites {min_size} image(s) each from {n_items} images"
        )


def partition_iid(labels: np.ndarray, n_parts: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle the indices of `labels` and deal them into `n_parts` sorted parts of near-equal size."""
    _check_parts(len(labels), n_parts)
    order = rng.permutation(len(labels))
    return [np.sort(part) for part in np.array_split(order, n_parts)]


def partition_dirichlet(
    labels: np.ndarray, n_parts: int, alpha: float, rng: np.random.Generator, min_size: int = 1
) -> list[np.ndarray]:
    """Label-skewed parts: each class is divided among the parts by proportions ~ Dirichlet(alpha).

    Small alpha gives each part few classes; large alpha approaches IID. Redraws until every
    part holds at least `min_size` indices; after 100 tries, moves indices from the largest
    parts to the smallest. Returns sorted, disjoint index arrays that together cover `labels`.
    """
    _check_parts(len(labels), n_parts, min_size)
    if not np.isfinite(alpha) or alpha <= 0:
        raise ConfigError(f"data.alpha must be > 0, got {alpha}")
    labels = np.asarray(labels)
    classes = np.unique(labels)
    result: list[np.ndarray] = []
    for _ in range(100):
        parts: list[list[np.ndarray]] = [[] for _ in range(n_parts)]
        for c in classes:
            members = rng.permutation(np.flatnonzero(labels == c))
            shares = rng.dirichlet(np.full(n_parts, alpha))
            cuts = (np.cumsum(shares) * len(members)).astype(np.int64)[:-1]
            for part, chunk in zip(parts, np.split(members, cuts), strict=True):
                part.append(chunk)
        result = [np.sort(np.concatenate(p)) for p in parts]
        if min(len(p) for p in result) >= min_size:
            return result
    sizes = np.array([len(p) for p in result])
    while sizes.min() < min_size:
        big, small = int(sizes.argmax()), int(sizes.argmin())
        result[small] = np.sort(np.append(result[small], result[big][-1]))
        result[big] = result[big][:-1]
        sizes[big] -= 1
        sizes[small] += 1
    return result


def stratified_take(labels: np.ndarray, pool: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted subset of `pool` (indices into labels) with round(fraction * len(pool)) members,
    every class contributing its share (largest remainders get the leftover places)."""
    classes, counts = np.unique(labels[pool], return_counts=True)
    exact = fraction * counts
    quota = np.floor(exact).astype(np.int64)
    leftover = int(round(fraction * len(pool))) - int(quota.sum())
    if leftover > 0:  # ties between equal remainders are broken at random
        order = np.lexsort((rng.random(len(classes)), -(exact - quota)))
        quota[order[:leftover]] += 1
    taken = [np.zeros(0, dtype=np.int64)]
    for c, k in zip(classes, quota, strict=True):
        taken.append(rng.permutation(pool[labels[pool] == c])[:k])
    return np.sort(np.concatenate(taken)).astype(np.int64)


def stratified_take_per_class(
    labels: np.ndarray, pool: np.ndarray, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """The experiment's split rule: round(fraction * count) per class, so the total can
    fall short of fraction * len(pool) (Python rounds 4.5 to 4). New code uses `stratified_take`."""
    taken = [np.zeros(0, dtype=np.int64)]
    for c in np.unique(labels[pool]):
        members = rng.permutation(pool[labels[pool] == c])
        taken.append(members[: int(round(fraction * len(members)))])
    return np.sort(np.concatenate(taken)).astype(np.int64)


def _check_fractions(ground: float, validation: float, test: float) -> None:
    for key, value in (
        ("data.ground_fraction", ground),
        ("data.validation_fraction", validation),
        ("data.test_fraction", test),
    ):
        if not isinstance(value, (int, float, np.floating)) or not 0 < value < 1:
            raise ConfigError(f"{key} must be between 0 and 1 (exclusive), got {value!r}")
    if ground + validation + test >= 1:
        raise ConfigError(
            f"data fractions (ground_fraction + validation_fraction + test_fraction) must sum to < 1, "
            f"got {ground + validation + test:g}"
        )


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
    """Stratified ground / validation / test pieces (fractions of the whole set); the rest goes
    to the satellites, IID or label-skewed (Dirichlet with `alpha`). Same seed, same split."""
    _check_fractions(ground_fraction, validation_fraction, test_fraction)
    if partition not in PARTITIONS:
        raise ConfigError(f"data.partition must be one of {', '.join(PARTITIONS)}; got {partition!r}")
    if partition == "dirichlet" and (not np.isfinite(alpha) or alpha <= 0):
        raise ConfigError(f"data.alpha must be > 0, got {alpha}")
    rng = np.random.default_rng([int(seed), 7])
    labels = data.labels
    pool = np.arange(len(data), dtype=np.int64)
    pieces: dict[str, np.ndarray] = {}
    remaining = 1.0
    for name, share in (("test", test_fraction), ("validation", validation_fraction), ("ground", ground_fraction)):
        pieces[name] = stratified_take(labels, pool, share / remaining, rng)
        if pieces[name].size == 0:
            raise ConfigError(f"data.{name}_fraction = {share} selects no image from {len(data)} images")
        pool = np.setdiff1d(pool, pieces[name])
        remaining -= share
    _check_parts(pool.size, n_satellites)
    if partition == "iid":
        shards = partition_iid(labels[pool], n_satellites, rng)
    else:
        shards = partition_dirichlet(labels[pool], n_satellites, alpha, rng)
    return MissionData(
        ground=data.subset(pieces["ground"]),
        satellites=[data.subset(pool[s]) for s in shards],
        validation=data.subset(pieces["validation"]),
        test=data.subset(pieces["test"]),
    )


def split_mission_from_splits(
    train: ImageSet,
    validation: ImageSet,
    test: ImageSet,
    n_satellites: int,
    ground_fraction: float,
    partition: str,
    alpha: float,
    seed: int,
) -> MissionData:
    """A mission from fixed train / validation / test splits: the ground holds a stratified
    `ground_fraction` of the train split (its labelled images), the rest of the train split goes
    to the satellites (IID or Dirichlet with `alpha`); validation and test are kept as given.
    Same seed, same split."""
    if not isinstance(ground_fraction, (int, float, np.floating)) or not 0 < ground_fraction < 1:
        raise ConfigError(f"data.ground_fraction must be between 0 and 1 (exclusive), got {ground_fraction!r}")
    if partition not in PARTITIONS:
        raise ConfigError(f"data.partition must be one of {', '.join(PARTITIONS)}; got {partition!r}")
    rng = np.random.default_rng([int(seed), 7])
    everything = np.arange(len(train), dtype=np.int64)
    ground = stratified_take(train.labels, everything, ground_fraction, rng)
    if ground.size == 0:
        raise ConfigError(f"data.ground_fraction = {ground_fraction} selects no image from {len(train)} train images")
    pool = np.setdiff1d(everything, ground)
    _check_parts(pool.size, n_satellites)
    if partition == "iid":
        shards = partition_iid(train.labels[pool], n_satellites, rng)
    else:
        shards = partition_dirichlet(train.labels[pool], n_satellites, alpha, rng)
    return MissionData(
        ground=train.subset(ground),
        satellites=[train.subset(pool[s]) for s in shards],
        validation=validation,
        test=test,
    )


def synthetic_imageset(n_images: int, seed: int, image_size: int = 64) -> ImageSet:
    """The first `n_images` synthetic images for `seed`, with ids 0..n_images-1."""
    images, labels = generate_synthetic(n_images, seed, image_size)
    return ImageSet(images, labels, np.arange(len(labels), dtype=np.int64), CLASS_NAMES)


def synthetic_mission(
    n_images: int,
    n_satellites: int,
    seed: int,
    ground_fraction: float = 0.3,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.15,
    partition: str = "dirichlet",
    alpha: float = 0.5,
    image_size: int = 64,
) -> MissionData:
    """The built-in synthetic dataset split for a mission (see `split_mission`)."""
    data = synthetic_imageset(n_images, seed, image_size)
    return split_mission(
        data, n_satellites, ground_fraction, validation_fraction, test_fraction, partition, alpha, seed
    )
