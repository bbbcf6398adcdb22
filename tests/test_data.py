"""Synthetic dataset, mission splits, non-IID partitions and the EuroSAT folder loader."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eurosat_fake import write_fake_eurosat
from simsat.data import (
    CLASS_NAMES,
    generate_synthetic,
    load_eurosat,
    load_eurosat_splits,
    partition_dirichlet,
    partition_iid,
    split_mission,
    synthetic_imageset,
)
from simsat.errors import ConfigError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_synthetic_is_deterministic_balanced_and_prefix_stable() -> None:
    a, la = generate_synthetic(200, seed=3)
    b, lb = generate_synthetic(200, seed=3)
    c, _ = generate_synthetic(50, seed=3)
    d, _ = generate_synthetic(50, seed=4)
    assert a.shape == (200, 64, 64, 3) and a.dtype == np.uint8 and la.dtype == np.int64
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert np.array_equal(a[:50], c)
    assert not np.array_equal(c, d)
    assert np.bincount(la, minlength=10).tolist() == [20] * 10
    assert len(CLASS_NAMES) == 10 and CLASS_NAMES[0] == "AnnualCrop" and CLASS_NAMES[-1] == "SeaLake"


def test_class_mean_images_are_distinct() -> None:
    images, labels = generate_synthetic(1500, seed=0)
    means = np.stack([images[labels == c].mean(0) for c in range(10)])
    assert min(np.abs(means[i] - means[j]).mean() for i in range(10) for j in range(i)) > 1.0


def test_iid_partition_covers_disjointly() -> None:
    parts = partition_iid(np.zeros(103), 4, np.random.default_rng(0))
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(103))
    assert [len(p) for p in parts] == [26, 26, 26, 25]


def _skew(parts: list[np.ndarray], labels: np.ndarray) -> float:
    """Mean total-variation distance between each part's label histogram and the global one."""
    overall = np.bincount(labels, minlength=10) / len(labels)
    return float(np.mean([0.5 * np.abs(np.bincount(labels[p], minlength=10) / len(p) - overall).sum() for p in parts]))


def test_dirichlet_skew_grows_as_alpha_shrinks() -> None:
    labels = np.repeat(np.arange(10), 200)
    skews = []
    for alpha in (100.0, 1.0, 0.1):
        parts = partition_dirichlet(labels, 8, alpha, np.random.default_rng(1))
        assert sorted(np.concatenate(parts).tolist()) == list(range(len(labels)))
        assert min(len(p) for p in parts) >= 1
        skews.append(_skew(parts, labels))
    assert skews[0] < 0.1 < skews[1] < skews[2]


def test_split_mission_pieces_are_disjoint_stratified_and_complete() -> None:
    data = synthetic_imageset(1000, seed=0)
    m = split_mission(data, 5, 0.3, 0.1, 0.2, "dirichlet", 0.5, seed=0)
    pieces = [m.ground.ids, m.validation.ids, m.test.ids, *[s.ids for s in m.satellites]]
    everything = np.concatenate(pieces)
    assert len(everything) == len(np.unique(everything)) == 1000
    assert len(m.ground) == 300 and len(m.validation) == 100 and len(m.test) == 200
    assert np.bincount(m.test.labels, minlength=10).tolist() == [20] * 10
    assert len(m.satellites) == 5 and all(len(s) >= 1 for s in m.satellites)
    again = split_mission(data, 5, 0.3, 0.1, 0.2, "dirichlet", 0.5, seed=0)
    assert np.array_equal(again.satellites[2].ids, m.satellites[2].ids)


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"ground_fraction": 1.5}, "data.ground_fraction"),
        ({"partition": "by_magic"}, "data.partition"),
        ({"alpha": 0.0, "partition": "dirichlet"}, "data.alpha"),
        ({"ground_fraction": 0.6, "test_fraction": 0.4}, "fractions"),
    ],
)
def test_split_mission_rejects_bad_values(kwargs: dict, culprit: str) -> None:
    args = dict(ground_fraction=0.3, validation_fraction=0.1, test_fraction=0.2, partition="iid", alpha=0.5, seed=0)
    args.update(kwargs)
    with pytest.raises(ConfigError, match=culprit):
        split_mission(synthetic_imageset(100, 0), 3, **args)


def test_eurosat_loader_decodes_once_and_reuses_cache(tmp_path: Path) -> None:
    root = tmp_path / "eurosat"
    write_fake_eurosat(root)
    first = load_eurosat(root, cache_dir=tmp_path / "cache")
    assert first.images.shape == (9, 64, 64, 3)
    assert first.class_names == ("Forest", "River", "SeaLake")
    assert first.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    with Image.open(root / "River" / "River_2.jpg") as img:
        assert np.array_equal(first.images[4], np.asarray(img.convert("RGB")))
    caches = list((tmp_path / "cache").glob("*.npz"))
    assert len(caches) == 1
    second = load_eurosat(root, cache_dir=tmp_path / "cache")
    assert np.array_equal(first.images, second.images)
    (root / "Forest" / "Forest_1.jpg").unlink()  # the folder changed: a new cache entry
    assert len(load_eurosat(root, cache_dir=tmp_path / "cache")) == 8
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2


def test_eurosat_splits_and_errors(tmp_path: Path) -> None:
    root = tmp_path / "eurosat"
    write_fake_eurosat(root)
    split_dir = tmp_path / "splits"
    split_dir.mkdir()
    (split_dir / "label_map.json").write_text(json.dumps({"Forest": 0, "River": 1, "SeaLake": 2}))
    names = {
        "train": ["Forest/Forest_1.jpg", "River/River_1.jpg"],
        "validation": ["SeaLake/SeaLake_2.jpg"],
        "test": ["River/River_3.jpg"],
    }
    for split, files in names.items():
        with (split_dir / f"{split}.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["Filename", "Label"])
            for rel in files:
                writer.writerow([rel, {"Forest": 0, "River": 1, "SeaLake": 2}[rel.split("/")[0]]])
    splits = load_eurosat_splits(root, split_dir)
    assert splits["train"].labels.tolist() == [0, 1]
    assert splits["test"].labels.tolist() == [1]
    with (split_dir / "test.csv").open("a") as f:
        f.write("River/River_99.jpg,1\n")
    with pytest.raises(ConfigError, match="River_99"):
        load_eurosat_splits(root, split_dir)
    with pytest.raises(ConfigError, match="not found"):
        load_eurosat(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no class subfolders"):
        load_eurosat(tmp_path / "empty")


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "eurosat_rgb").is_dir(), reason="EuroSAT not available")
def test_real_eurosat_split_files(tmp_path: Path) -> None:
    splits = load_eurosat_splits(SHARED / "eurosat_rgb", SHARED / "eurosat_splits", tmp_path)
    assert {k: len(v) for k, v in splits.items()} == {"train": 18_900, "validation": 5_400, "test": 2_700}
