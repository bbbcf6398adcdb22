"""EuroSAT RGB from any folder in the `<Class>/<Class>_<n>.jpg` layout, decoded once and cached.

Ids are positions in the sorted list of relative paths, so they are stable for a given folder.
The decoded arrays are cached as one .npz keyed by a hash of the file list (names, sizes, mtimes).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from simsat.data.imageset import ImageSet
from simsat.errors import ConfigError

log = logging.getLogger(__name__)

_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff")


def _scan(root: Path) -> tuple[tuple[str, ...], list[str]]:
    if not root.is_dir():
        raise ConfigError(f"EuroSAT folder not found: {root}")
    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    if not classes:
        raise ConfigError(f"EuroSAT folder has no class subfolders: {root}")
    files = sorted(
        f"{c}/{name}"
        for c in classes
        for name in os.listdir(root / c)
        if name.lower().endswith(_EXTENSIONS)
    )
    if not files:
        raise ConfigError(f"EuroSAT folder has no images: {root}")
    return classes, files


def _decode(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _cache_key(root: Path, files: list[str]) -> str:
    digest = hashlib.sha256(str(root.resolve()).encode())
    for rel in files:
        st = (root / rel).stat()
        digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def load_eurosat(root: Path, cache_dir: Path | None = None, class_names: tuple[str, ...] | None = None) -> ImageSet:
    """Every image under `root`; labels follow `class_names` (default: sorted folder names)."""
    root = Path(root)
    classes, files = _scan(root)
    names = class_names or classes
    unknown = sorted(set(classes) - set(names))
    if unknown:
        raise ConfigError(f"{root}: class folder(s) {unknown} not in the label map")
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"eurosat-{_cache_key(root, files)}.npz"
        if cache.is_file():
            with np.load(cache) as data:
                images = data["images"]
            log.info("EuroSAT: %d images from cache %s", len(images), cache)
            return _imageset(images, files, names)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        decoded = list(pool.map(_decode, (root / f for f in files)))
    shapes = {d.shape for d in decoded}
    if len(shapes) != 1:
        raise ConfigError(f"{root}: images have different sizes {sorted(shapes)[:3]}")
    images = np.stack(decoded)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, images=images)
        tmp.replace(cache)
    log.info("EuroSAT: decoded %d images from %s", len(images), root)
    return _imageset(images, files, names)


def _imageset(images: np.ndarray, files: list[str], names: tuple[str, ...]) -> ImageSet:
    index = {name: i for i, name in enumerate(names)}
    labels = np.array([index[f.split("/", 1)[0]] for f in files], dtype=np.int64)
    return ImageSet(images, labels, np.arange(len(files), dtype=np.int64), tuple(names))


def relative_paths(root: Path) -> list[str]:
    """The sorted relative paths whose positions are the image ids."""
    return _scan(Path(root))[1]


def load_eurosat_splits(
    root: Path, split_dir: Path, cache_dir: Path | None = None
) -> dict[str, ImageSet]:
    """"train" / "validation" / "test" from CSV files (`Filename`, `Label`) and label_map.json."""
    split_dir = Path(split_dir)
    label_map_file = split_dir / "label_map.json"
    if not label_map_file.is_file():
        raise ConfigError(f"split folder has no label_map.json: {split_dir}")
    label_map = json.loads(label_map_file.read_text())
    names = tuple(sorted(label_map, key=lambda k: int(label_map[k])))
    data = load_eurosat(root, cache_dir, class_names=names)
    position = {rel: i for i, rel in enumerate(relative_paths(root))}
    result = {}
    for split in ("train", "validation", "test"):
        path = split_dir / f"{split}.csv"
        if not path.is_file():
            raise ConfigError(f"split file not found: {path}")
        rows = []
        with path.open(newline="") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                rel, label = row.get("Filename"), row.get("Label")
                if rel not in position:
                    raise ConfigError(f"{path}:{line}: file {rel!r} not found under {root}")
                if label is None or not label.strip().isdigit() or int(label) >= len(names):
                    raise ConfigError(f"{path}:{line}: unknown label {label!r}")
                if int(label) != data.labels[position[rel]]:
                    raise ConfigError(f"{path}:{line}: label {label} disagrees with folder of {rel!r}")
                rows.append(position[rel])
        result[split] = data.subset(np.array(rows, dtype=np.int64))
    return result
