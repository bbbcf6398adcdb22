"""EuroSAT RGB from any folder in the `<Class>/<Class>_<n>.jpg` layout, decoded once and cached.

Ids are positions in the sorted list of relative paths, so they are stable for a given folder.
The decoded arrays are cached as one uncompressed .npz file keyed by a hash of the folder, the relative
file list, sizes and modification times; any change to the folder gives a new cache entry.
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
from PIL import Image, UnidentifiedImageError

from simsat.data.imageset import ImageSet
from simsat.errors import ConfigError
from simsat.results.atomic import write_with

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
SPLITS: tuple[str, ...] = ("train", "validation", "test")


def _scan(root: Path) -> tuple[tuple[str, ...], list[str]]:
    """Sorted class folder names and sorted relative image paths under root."""
    if root.exists() and not root.is_dir():
        raise ConfigError(f"EuroSAT folder {root} is a file, not a folder")
    if not root.is_dir():
        raise ConfigError(f"EuroSAT folder not found: {root}")
    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")))
    if not classes:
        raise ConfigError(f"EuroSAT folder has no class subfolders: {root}")
    per_class = {
        c: [n for n in os.listdir(root / c) if n.lower().endswith(IMAGE_EXTENSIONS) and not n.startswith(".")]
        for c in classes
    }
    kinds = ", ".join(IMAGE_EXTENSIONS)
    if not any(per_class.values()):
        raise ConfigError(f"EuroSAT folder has no images ({kinds}) in its class subfolders: {root}")
    for c, names in per_class.items():
        if not names:
            raise ConfigError(f"EuroSAT class folder {root / c} has no images ({kinds}): not a class folder")
    files = sorted(f"{c}/{name}" for c, names in per_class.items() for name in names)
    return classes, files


def relative_paths(root: Path) -> list[str]:
    """The sorted relative paths whose positions are the image ids."""
    return _scan(Path(root))[1]


def _decode(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError:
        raise ConfigError(f"corrupt image {path}: not a readable image file") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"corrupt or truncated image {path}: {reason}") from None


def _cache_key(root: Path, files: list[str]) -> str:
    digest = hashlib.sha256(str(root.resolve()).encode())
    for rel in files:
        st = (root / rel).stat()
        digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def _decode_all(root: Path, files: list[str]) -> np.ndarray:
    workers = min(8, max(2, os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:  # PIL releases the GIL while decoding
        decoded = list(pool.map(_decode, (root / f for f in files), chunksize=64))
    shapes = [d.shape for d in decoded]
    common = max(set(shapes), key=shapes.count)
    odd = next((i for i, shape in enumerate(shapes) if shape != common), None)
    if odd is not None:
        h, w = shapes[odd][:2]
        raise ConfigError(
            f"image {root / files[odd]} is {w}x{h} pixels, the other images are {common[1]}x{common[0]} "
            "(images have different sizes)"
        )
    return np.stack(decoded)


def _cache_file(root: Path, files: list[str], cache_dir: Path) -> Path:
    return Path(cache_dir) / f"eurosat-{_cache_key(root, files)}.npz"


def _load_pixels(root: Path, files: list[str], cache_dir: Path | None) -> np.ndarray:
    if cache_dir is None:
        return _decode_all(root, files)
    cache = _cache_file(root, files, cache_dir)
    if cache.is_file():
        try:
            with np.load(cache) as stored:
                images = stored["images"]
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable cache %s: %s", cache, exc)
        else:
            if images.shape[0] == len(files) and images.dtype == np.uint8:
                logger.info("EuroSAT: %d images from cache %s", len(images), cache)
                return images
    images = _decode_all(root, files)
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_with(cache, lambda handle: np.savez(handle, images=images))  # readers never see half a cache
    logger.info("EuroSAT: decoded %d images from %s, cached in %s", len(images), root, cache)
    return images


def load_eurosat(root: Path, cache_dir: Path | None = None, class_names: tuple[str, ...] | None = None) -> ImageSet:
    """Every image under `root`; labels index `class_names` (default: sorted class folder names)."""
    root = Path(root)
    classes, files = _scan(root)
    names = _class_list(root, classes, class_names)
    images = _load_pixels(root, files, cache_dir)
    return ImageSet(images, _folder_labels(files, names), np.arange(len(files), dtype=np.int64), names)


def _class_list(root: Path, classes: tuple[str, ...], class_names: tuple[str, ...] | None) -> tuple[str, ...]:
    names = tuple(class_names) if class_names else classes
    unknown = sorted(set(classes) - set(names))
    if unknown:
        raise ConfigError(f"{root}: unknown class folder(s) {unknown}, not in the class list {list(names)}")
    return names


def _folder_labels(files: list[str], names: tuple[str, ...]) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[f.split("/", 1)[0]] for f in files], dtype=np.int64)


def verify_eurosat(root: Path, cache_dir: Path | None = None, split_dir: Path | None = None) -> int:
    """Check a EuroSAT folder (and split folder) as `load_eurosat(_splits)` would read it, without
    keeping the pixels; return the number of images.

    Every image is decoded once (the decoded arrays are cached in `cache_dir`, so the run that
    follows reads them from there); an existing cache entry for the folder's exact contents
    means the images were decoded before and are not decoded again. ConfigError names the file.
    """
    root = Path(root)
    names = _read_label_map(Path(split_dir)) if split_dir else None
    classes, files = _scan(root)
    names = _class_list(root, classes, names)
    if split_dir:
        labels = _folder_labels(files, names)
        position = {rel: i for i, rel in enumerate(files)}
        for split in SPLITS:
            _read_split(Path(split_dir) / f"{split}.csv", root, position, labels, len(names))
    if cache_dir is None or not _cache_file(root, files, cache_dir).is_file():
        _load_pixels(root, files, cache_dir)
    return len(files)


def _read_label_map(split_dir: Path) -> tuple[str, ...]:
    path = split_dir / "label_map.json"
    if not path.is_file():
        raise ConfigError(f"split folder has no label_map.json: {split_dir}")
    try:
        mapping = json.loads(path.read_text())
        order = sorted(mapping, key=lambda name: int(mapping[name]))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: expected a JSON object of class name -> integer label ({exc})") from exc
    if sorted(int(mapping[name]) for name in order) != list(range(len(order))):
        raise ConfigError(f"{path}: labels must be 0..{len(order) - 1} without gaps or repeats")
    return tuple(order)


def _read_split(path: Path, root: Path, position: dict[str, int], labels: np.ndarray, n_classes: int) -> np.ndarray:
    if not path.is_file():
        raise ConfigError(f"split file not found: {path}")
    rows: list[int] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"Filename", "Label"} - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"{path}: missing column(s) {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            rel, label = (row["Filename"] or "").strip(), (row["Label"] or "").strip()
            if rel not in position:
                raise ConfigError(f"{path}:{line}: file {rel!r} not found under {root}")
            if not label.isdigit() or int(label) >= n_classes:
                raise ConfigError(f"{path}:{line}: unknown label {label!r} (label_map has {n_classes})")
            if int(label) != labels[position[rel]]:
                raise ConfigError(f"{path}:{line}: label {label} disagrees with the folder of {rel!r}")
            rows.append(position[rel])
    return np.array(rows, dtype=np.int64)


def load_eurosat_splits(root: Path, split_dir: Path, cache_dir: Path | None = None) -> dict[str, ImageSet]:
    """ "train" / "validation" / "test" sets from `<split>.csv` (columns Filename, Label) and
    label_map.json in split_dir; class order follows the label map."""
    root, split_dir = Path(root), Path(split_dir)
    names = _read_label_map(split_dir)
    data = load_eurosat(root, cache_dir, class_names=names)
    position = {rel: i for i, rel in enumerate(relative_paths(root))}
    return {
        split: data.subset(_read_split(split_dir / f"{split}.csv", root, position, data.labels, len(names)))
        for split in SPLITS
    }
