"""Image sets, IID / Dirichlet partitions and the ground / satellite / validation / test split."""

from __future__ import annotations

import numpy as np
import pytest

from simsat.data import ImageSet, partition_dirichlet, partition_iid, split_mission, synthetic_mission
from simsat.data.partition import stratified_take, synthetic_imageset
from simsat.errors import ConfigError


def _toy(n: int = 500, classes: int = 10) -> ImageSet:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (n, 4, 4, 3), dtype=np.uint8)
    labels = np.arange(n, dtype=np.int64) % classes
    return ImageSet(images, labels, np.arange(1000, 1000 + n, dtype=np.int64), tuple(f"c{i}" for i in range(classes)))


def _skew(parts: list[np.ndarray], labels: np.ndarray) -> float:
    """Mean total-variation distance of the parts' label histograms from the global one."""
    overall = np.bincount(labels, minlength=10) / len(labels)
    return float(np.mean([0.5 * np.abs(np.bincount(labels[p], minlength=10) / len(p) - overall).sum() for p in parts]))


def test_imageset_subset_len_and_fingerprint() -> None:
    data = _toy(20)
    part = data.subset(np.array([3, 5, 7]))
    assert len(part) == 3 and part.ids.tolist() == [1003, 1005, 1007] and part.labels.tolist() == [3, 5, 7]
    assert data.fingerprint() == _toy(20).fingerprint() and len(data.fingerprint()) == 64
    touched = data.images.copy()
    touched[4, 0, 0, 0] ^= 1
    assert ImageSet(touched, data.labels, data.ids, data.class_names).fingerprint() != data.fingerprint()
    relabelled = ImageSet(data.images, data.labels[::-1].copy(), data.ids, data.class_names)
    assert relabelled.fingerprint() != data.fingerprint()
    with pytest.raises(ValueError, match="labels"):
        ImageSet(data.images, data.labels[:5], data.ids, data.class_names)


def test_iid_parts_are_sorted_disjoint_and_near_equal() -> None:
    parts = partition_iid(np.zeros(103), 4, np.random.default_rng(0))
    assert sorted(np.concatenate(parts).tolist()) == list(range(103))
    assert [len(p) for p in parts] == [26, 26, 26, 25]
    assert all(np.all(np.diff(p) > 0) for p in parts)
    with pytest.raises(ConfigError, match="n_satellites"):
        partition_iid(np.zeros(3), 4, np.random.default_rng(0))


def test_dirichlet_parts_cover_and_skew_grows_as_alpha_shrinks() -> None:
    labels = np.repeat(np.arange(10), 200)
    skews = []
    for alpha in (100.0, 1.0, 0.1):
        parts = partition_dirichlet(labels, 8, alpha, np.random.default_rng(1))
        joined = np.concatenate(parts)
        assert len(joined) == len(np.unique(joined)) == len(labels)
        assert min(len(p) for p in parts) >= 1 and all(np.all(np.diff(p) > 0) for p in parts)
        skews.append(_skew(parts, labels))
    assert skews[0] < 0.1 < skews[1] < skews[2]
    first, again = (partition_dirichlet(labels, 8, 0.1, np.random.default_rng(1)) for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_dirichlet_respects_min_size_even_when_extreme() -> None:
    labels = np.repeat(np.arange(10), 5)
    parts = partition_dirichlet(labels, 12, 0.01, np.random.default_rng(3), min_size=3)
    assert min(len(p) for p in parts) >= 3
    assert sorted(np.concatenate(parts).tolist()) == list(range(50))
    with pytest.raises(ConfigError, match="data.alpha"):
        partition_dirichlet(labels, 3, 0.0, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="n_satellites"):
        partition_dirichlet(labels, 20, 1.0, np.random.default_rng(0), min_size=3)


def test_split_mission_pieces_are_disjoint_stratified_and_reproducible() -> None:
    data = _toy(1000)
    m = split_mission(data, 5, 0.3, 0.1, 0.2, "dirichlet", 0.5, seed=0)
    pieces = [m.ground.ids, m.validation.ids, m.test.ids, *[s.ids for s in m.satellites]]
    everything = np.concatenate(pieces)
    assert len(everything) == len(np.unique(everything)) == 1000
    assert set(everything.tolist()) == set(data.ids.tolist())
    assert (len(m.ground), len(m.validation), len(m.test)) == (300, 100, 200)
    assert np.bincount(m.ground.labels, minlength=10).tolist() == [30] * 10
    assert np.bincount(m.validation.labels, minlength=10).tolist() == [10] * 10
    assert len(m.satellites) == 5 and all(len(s) >= 1 for s in m.satellites)
    assert all(np.all(np.diff(p) > 0) for p in pieces)
    again = split_mission(data, 5, 0.3, 0.1, 0.2, "dirichlet", 0.5, seed=0)
    assert all(np.array_equal(a.ids, b.ids) for a, b in zip(again.satellites, m.satellites, strict=True))
    other = split_mission(data, 5, 0.3, 0.1, 0.2, "dirichlet", 0.5, seed=1)
    assert not np.array_equal(other.test.ids, m.test.ids)


def _shard_skew(shards: list[ImageSet]) -> float:
    pool = np.concatenate([s.labels for s in shards])
    overall = np.bincount(pool, minlength=10) / len(pool)
    return float(np.mean([0.5 * np.abs(np.bincount(s.labels, minlength=10) / len(s) - overall).sum() for s in shards]))


def test_iid_satellites_are_balanced_dirichlet_ones_are_not() -> None:
    data = _toy(2000)
    iid = split_mission(data, 6, 0.2, 0.1, 0.1, "iid", 0.5, seed=2)
    skewed = split_mission(data, 6, 0.2, 0.1, 0.1, "dirichlet", 0.1, seed=2)
    sizes = [len(s) for s in iid.satellites]
    assert max(sizes) - min(sizes) <= 1
    assert _shard_skew(iid.satellites) < 0.15 < _shard_skew(skewed.satellites)


def test_stratified_take_hits_the_total_and_every_class() -> None:
    labels = np.repeat(np.arange(10), 30)
    pool = np.arange(300)[::-1]
    taken = stratified_take(labels, pool, 0.15, np.random.default_rng(4))
    assert len(taken) == 45 and np.all(np.diff(taken) > 0)
    assert sorted(set(np.bincount(labels[taken], minlength=10).tolist())) == [4, 5]
    assert len(stratified_take(labels, pool[:7], 0.5, np.random.default_rng(4))) == 4  # round(3.5)


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"ground_fraction": 1.5}, "data.ground_fraction"),
        ({"validation_fraction": 0.0}, "data.validation_fraction"),
        ({"test_fraction": -0.2}, "data.test_fraction"),
        ({"ground_fraction": 0.6, "test_fraction": 0.4}, "fractions"),
        ({"partition": "by_magic"}, "data.partition"),
        ({"alpha": 0.0, "partition": "dirichlet"}, "data.alpha"),
        ({"n_satellites": 0}, "n_satellites"),
        ({"n_satellites": 500}, "n_satellites"),
        ({"validation_fraction": 0.001}, "data.validation_fraction"),
    ],
)
def test_split_mission_rejects_bad_values(kwargs: dict, culprit: str) -> None:
    args = dict(
        n_satellites=3,
        ground_fraction=0.3,
        validation_fraction=0.1,
        test_fraction=0.2,
        partition="iid",
        alpha=0.5,
        seed=0,
    )
    args.update(kwargs)
    with pytest.raises(ConfigError, match=culprit):
        split_mission(_toy(100), **args)


def test_synthetic_mission_end_to_end() -> None:
    m = synthetic_mission(300, 4, seed=1, partition="iid")
    assert (len(m.ground), len(m.validation), len(m.test)) == (90, 30, 45)
    assert sum(len(s) for s in m.satellites) == 135
    assert m.ground.images.shape[1:] == (64, 64, 3) and m.ground.class_names[0] == "AnnualCrop"
    full = synthetic_imageset(300, seed=1)
    row = int(np.flatnonzero(full.ids == m.test.ids[0])[0])
    assert np.array_equal(full.images[row], m.test.images[0])
