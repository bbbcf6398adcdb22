"""Image sets and the pieces of a mission's data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ImageSet:
    """Images (uint8, (N, H, W, 3)) with labels and ids unique within their source dataset."""

    images: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.ndim != 4 or self.images.shape[-1] != 3 or self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (N, H, W, 3), got {self.images.dtype} {self.images.shape}")
        if len(self.labels) != n or len(self.ids) != n:
            raise ValueError(f"{n} images but {len(self.labels)} labels and {len(self.ids)} ids")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, index: np.ndarray) -> ImageSet:
        return ImageSet(self.images[index], self.labels[index], self.ids[index], self.class_names)

    def fingerprint(self) -> str:
        """sha256 of the images, labels and ids (stable across runs; used in cache keys)."""
        digest = hashlib.sha256()
        for array in (self.images, self.labels.astype(np.int64), self.ids.astype(np.int64)):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update("\n".join(self.class_names).encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class MissionData:
    """Labelled images at the ground, one unlabelled shard per satellite, validation and test."""

    ground: ImageSet
    satellites: list[ImageSet]
    validation: ImageSet
    test: ImageSet
