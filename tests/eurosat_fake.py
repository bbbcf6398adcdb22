"""A tiny fake EuroSAT folder (<root>/<Class>/<Class>_<i>.jpg) for the loader, experiment and bench tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image


def write_fake_eurosat(
    root: Path,
    classes: Sequence[str] = ("Forest", "River", "SeaLake"),
    per_class: int = 3,
    size: int = 64,
    colour_cue: bool = False,
    quality: int = 95,
) -> Path:
    """Random JPEGs, `per_class` per class, numbered from 1 as EuroSAT's files are.

    With colour_cue, class c gets a bright channel c % 3, so a model can learn the classes.
    """
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(1, per_class + 1):
            pixels = rng.integers(0, 80 if colour_cue else 255, (size, size, 3), dtype=np.uint8)
            if colour_cue:
                pixels[..., c % 3] += 150
            Image.fromarray(pixels).save(root / name / f"{name}_{i}.jpg", quality=quality)
    return root


def write_fake_eurosat_with_splits(
    folder: Path, classes: Sequence[str] = ("Forest", "River", "SeaLake"), per_class: int = 40
) -> tuple[Path, Path]:
    """A fake EuroSAT folder (16 px) and split files beside it: per class, all but the last ten
    images train, five validation, five test; (images folder, split folder)."""
    root = write_fake_eurosat(folder / "eurosat", classes, per_class=per_class, size=16)
    splits = folder / "splits"
    splits.mkdir()
    (splits / "label_map.json").write_text(json.dumps({name: i for i, name in enumerate(classes)}))
    names = {"train": range(1, per_class - 9), "validation": range(per_class - 9, per_class - 4)}
    names["test"] = range(per_class - 4, per_class + 1)
    for split, numbers in names.items():
        with (splits / f"{split}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["", "Filename", "Label", "ClassName"])
            for label, name in enumerate(classes):
                for i in numbers:
                    writer.writerow([0, f"{name}/{name}_{i}.jpg", label, name])
    return root, splits
