"""What crosses the link, as plain numpy values (the Flower adapters serialise these)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ModelArrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class KnowledgePacket:
    """Teacher soft labels for images a satellite holds, keyed by image id.

    `targets` is the confidence-weighted mixture of the teachers' tempered probabilities;
    `kd_weight` and `ce_weight` are the per-image weights of the distillation and label terms.
    """

    ids: np.ndarray  # int64 (n,)
    targets: np.ndarray  # float16 (n, classes)
    kd_weight: np.ndarray  # float32 (n,)
    ce_weight: np.ndarray  # float32 (n,)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @staticmethod
    def empty(num_classes: int) -> KnowledgePacket:
        return KnowledgePacket(
            ids=np.zeros(0, np.int64),
            targets=np.zeros((0, num_classes), np.float16),
            kd_weight=np.zeros(0, np.float32),
            ce_weight=np.zeros(0, np.float32),
        )

    def take(self, index: np.ndarray | slice) -> KnowledgePacket:
        return KnowledgePacket(
            ids=self.ids[index],
            targets=self.targets[index],
            kd_weight=self.kd_weight[index],
            ce_weight=self.ce_weight[index],
        )

    def merge(self, newer: KnowledgePacket) -> KnowledgePacket:
        """Union by image id; entries of `newer` replace entries with the same id. Sorted by id."""
        ids = np.concatenate([self.ids, newer.ids])
        # Keep the last occurrence of each id (newer comes after self).
        _, first_in_reversed = np.unique(ids[::-1], return_index=True)
        keep = len(ids) - 1 - first_in_reversed
        keep.sort()
        merged = KnowledgePacket(
            ids=ids,
            targets=np.concatenate([self.targets, newer.targets]),
            kd_weight=np.concatenate([self.kd_weight, newer.kd_weight]),
            ce_weight=np.concatenate([self.ce_weight, newer.ce_weight]),
        ).take(keep)
        return merged.take(np.argsort(merged.ids, kind="stable"))


@dataclass(frozen=True)
class UplinkPacket:
    """Ground to satellite: the global student (if newer than the satellite's) and knowledge."""

    version: int
    model: ModelArrays | None
    knowledge: KnowledgePacket


@dataclass(frozen=True)
class UpdatePacket:
    """Satellite to ground: a locally trained student."""

    base_version: int
    model: ModelArrays
    num_examples: int
    loss: float


@dataclass(frozen=True)
class TrainReport:
    """What the satellite's computer reports when it has trained (not a link transfer).

    `num_examples` counts the images with a target (soft label or label); `unlabelled` the
    images used by the semi-supervised term; `wall_seconds` the real training time.
    """

    num_examples: int
    loss: float
    wall_seconds: float
    unlabelled: int = 0


@dataclass(frozen=True)
class ImageryPacket:
    """Satellite to ground: images as encoded bytes (JPEG), keyed by image id.

    `data` holds the encoded images back to back; image i is data[offsets[i]:offsets[i+1]].
    """

    ids: np.ndarray  # int64 (n,)
    data: np.ndarray  # uint8 (total encoded bytes,)
    offsets: np.ndarray  # int64 (n + 1,)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def encoded_bytes(self) -> int:
        return int(self.data.shape[0])

    @staticmethod
    def empty() -> ImageryPacket:
        return ImageryPacket(np.zeros(0, np.int64), np.zeros(0, np.uint8), np.zeros(1, np.int64))

    def within(self, count: int, budget_bytes: int) -> ImageryPacket:
        """The first images of the packet, at most `count`, while their encoded bytes fit
        `budget_bytes`: what the node would have sent for a smaller ask (it fills the budget in
        order and stops at the first image that does not fit)."""
        n = min(count, len(self))
        fits = int(np.searchsorted(self.offsets[1 : n + 1], budget_bytes, side="right"))
        return ImageryPacket(self.ids[:fits], self.data[: self.offsets[fits]], self.offsets[: fits + 1])
