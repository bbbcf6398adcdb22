"""A tiny fake EuroSAT folder (<root>/<Class>/<Class>_<i>.jpg) for the loader, experiment and bench tests."""

from __future__ import annotations

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
