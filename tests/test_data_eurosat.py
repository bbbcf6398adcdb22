"""The EuroSAT folder loader on a tiny fake tree: decoding, ids, cache reuse, split files, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import simsat.data.eurosat as eurosat
from eurosat_fake import write_fake_eurosat
from simsat.data import load_eurosat, load_eurosat_splits
from simsat.errors import ConfigError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CLASSES = ("River", "Forest", "SeaLake")  # label_map order, not alphabetical
LABEL_MAP = {name: i for i, name in enumerate(CLASSES)}


def _fake_tree(root: Path) -> None:
    write_fake_eurosat(root, CLASSES, size=16, quality=75)
    (root / "Forest" / "notes.txt").write_text("not an image")
    (root / ".thumbnails").mkdir()


def _split_dir(tmp: Path, splits: dict[str, list[str]]) -> Path:
    folder = tmp / "splits"
    folder.mkdir(exist_ok=True)
    (folder / "label_map.json").write_text(json.dumps(LABEL_MAP))
    for split, files in splits.items():
        with (folder / f"{split}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["", "Filename", "Label", "ClassName"])
            for k, rel in enumerate(files):
                name = rel.split("/")[0]
                writer.writerow([k, rel, LABEL_MAP[name], name])
    return folder


SPLITS = {
    "train": ["Forest/Forest_1.jpg", "River/River_2.jpg", "SeaLake/SeaLake_3.jpg"],
    "validation": ["SeaLake/SeaLake_1.jpg"],
    "test": ["River/River_3.jpg", "Forest/Forest_2.jpg"],
}


def test_folder_loads_with_sorted_classes_and_stable_ids(tmp_path: Path) -> None:
    root = tmp_path / "eurosat"
    _fake_tree(root)
    data = load_eurosat(root)
    assert data.images.shape == (9, 16, 16, 3) and data.images.dtype == np.uint8
    assert data.class_names == ("Forest", "River", "SeaLake")
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert data.ids.tolist() == list(range(9))
    assert eurosat.relative_paths(root)[4] == "River/River_2.jpg"
    with Image.open(root / "River" / "River_2.jpg") as img:
        assert np.array_equal(data.images[4], np.asarray(img.convert("RGB")))


def test_cache_is_written_once_reused_and_renewed_when_the_folder_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = tmp_path / "eurosat", tmp_path / "cache"
    _fake_tree(root)
    first = load_eurosat(root, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 1 and not list(cache.glob("*partial*"))

    def no_decoding(path: Path) -> np.ndarray:
        raise AssertionError(f"decoded {path} although the cache is valid")

    monkeypatch.setattr(eurosat, "_decode", no_decoding)
    second = load_eurosat(root, cache_dir=cache)
    assert np.array_equal(first.images, second.images) and second.fingerprint() == first.fingerprint()
    monkeypatch.undo()
    (root / "Forest" / "Forest_1.jpg").unlink()
    third = load_eurosat(root, cache_dir=cache)
    assert len(third) == 8 and len(list(cache.glob("*.npz"))) == 2
    assert np.array_equal(third.images, first.images[1:])


def test_corrupt_cache_is_ignored_and_rewritten(tmp_path: Path) -> None:
    root, cache = tmp_path / "eurosat", tmp_path / "cache"
    _fake_tree(root)
    first = load_eurosat(root, cache_dir=cache)
    stored = next(cache.glob("*.npz"))
    stored.write_bytes(b"not a numpy file")
    again = load_eurosat(root, cache_dir=cache)
    assert np.array_equal(again.images, first.images)
    with np.load(stored) as rewritten:
        assert rewritten["images"].shape == (9, 16, 16, 3)


def test_split_files_follow_the_label_map(tmp_path: Path) -> None:
    root = tmp_path / "eurosat"
    _fake_tree(root)
    splits = load_eurosat_splits(root, _split_dir(tmp_path, SPLITS), cache_dir=tmp_path / "cache")
    assert {k: len(v) for k, v in splits.items()} == {"train": 3, "validation": 1, "test": 2}
    assert splits["train"].class_names == CLASSES
    assert splits["train"].labels.tolist() == [1, 0, 2]  # Forest, River, SeaLake in label_map order
    assert splits["train"].ids.tolist() == [0, 4, 8]  # positions in the sorted file list
    whole = load_eurosat(root)
    assert np.array_equal(splits["test"].images[0], whole.images[5])


@pytest.mark.parametrize(
    ("line", "culprit"),
    [
        ("River/River_99.jpg,0", "River_99"),
        ("River/River_1.jpg,7", "unknown label '7'"),
        ("River/River_1.jpg,x", "unknown label 'x'"),
        ("River/River_1.jpg,1", "disagrees"),
    ],
)
def test_bad_split_rows_are_named(tmp_path: Path, line: str, culprit: str) -> None:
    root = tmp_path / "eurosat"
    _fake_tree(root)
    folder = _split_dir(tmp_path, SPLITS)
    with (folder / "test.csv").open("a") as handle:
        handle.write(f"9,{line},River\n")
    with pytest.raises(ConfigError, match=culprit):
        load_eurosat_splits(root, folder)


def test_bad_split_folders_are_named(tmp_path: Path) -> None:
    root = tmp_path / "eurosat"
    _fake_tree(root)
    folder = _split_dir(tmp_path, SPLITS)
    (folder / "validation.csv").write_text("Path,Label\nRiver/River_1.jpg,0\n")
    with pytest.raises(ConfigError, match="missing column"):
        load_eurosat_splits(root, folder)
    (folder / "validation.csv").unlink()
    with pytest.raises(ConfigError, match="validation.csv"):
        load_eurosat_splits(root, folder)
    (folder / "label_map.json").write_text(json.dumps({"River": 0, "Forest": 2}))
    with pytest.raises(ConfigError, match="without gaps"):
        load_eurosat_splits(root, folder)
    (folder / "label_map.json").write_text(json.dumps({"River": 0, "Forest": 1}))
    with pytest.raises(ConfigError, match="SeaLake"):  # a class folder the label map lacks
        load_eurosat_splits(root, folder)
    (folder / "label_map.json").unlink()
    with pytest.raises(ConfigError, match="label_map.json"):
        load_eurosat_splits(root, folder)


def test_bad_folders_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_eurosat(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no class subfolders"):
        load_eurosat(tmp_path / "empty")
    (tmp_path / "hollow" / "Forest").mkdir(parents=True)
    with pytest.raises(ConfigError, match="no images"):
        load_eurosat(tmp_path / "hollow")
    mixed = tmp_path / "mixed"
    _fake_tree(mixed)
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(mixed / "River" / "River_9.jpg")
    with pytest.raises(ConfigError, match="different sizes"):
        load_eurosat(mixed)
    (mixed / "River" / "River_9.jpg").write_bytes(b"broken")
    with pytest.raises(ConfigError, match="River_9"):
        load_eurosat(mixed)


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "eurosat_rgb").is_dir(), reason="EuroSAT not available")
def test_real_eurosat_and_its_split_files(tmp_path: Path) -> None:
    splits = load_eurosat_splits(SHARED / "eurosat_rgb", SHARED / "eurosat_splits", tmp_path)
    assert {k: len(v) for k, v in splits.items()} == {"train": 18_900, "validation": 5_400, "test": 2_700}
    assert splits["train"].images.shape[1:] == (64, 64, 3)
    ids = np.concatenate([s.ids for s in splits.values()])
    assert len(np.unique(ids)) == 27_000
    assert np.bincount(np.concatenate([s.labels for s in splits.values()]), minlength=10).tolist() == [
        3000,
        3000,
        3000,
        2500,
        2500,
        2000,
        2500,
        3000,
        2500,
        3000,
    ]
