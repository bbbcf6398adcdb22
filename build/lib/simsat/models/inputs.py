"""Turning uint8 image arrays (N, H, W, 3) into normalised float tensors for the models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from simsat.errors import ConfigError

_CHUNK = 4096  # images per chunk when computing statistics (bounds temporary memory)


def check_images(images: np.ndarray, what: str = "images") -> None:
    """Raise ConfigError unless `images` is a uint8 array of shape (N, H, W, 3) with N >= 1."""
    if not isinstance(images, np.ndarray):
        raise ConfigError(f"{what} must be a numpy array, got {type(images).__name__}")
    if images.dtype != np.uint8:
        raise ConfigError(f"{what} must have dtype uint8, got {images.dtype}")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ConfigError(f"{what} must have shape (N, H, W, 3), got {images.shape}")
    if images.shape[0] == 0:
        raise ConfigError(f"{what} is empty")


@dataclass(frozen=True)
class Normalization:
    """Per-channel mean and standard deviation of images scaled to 0..1."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __post_init__(self) -> None:
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ConfigError(f"normalization needs 3 means and 3 stds, got {self.mean} / {self.std}")
        if any(not s > 0 for s in self.std):
            raise ConfigError(f"normalization std values must be > 0, got {self.std}")

    @classmethod
    def from_images(cls, images_uint8: np.ndarray) -> Normalization:
        """Per-channel statistics of `images_uint8` (N, H, W, 3), computed exactly in chunks."""
        check_images(images_uint8)
        total = np.zeros(3, dtype=np.float64)
        total_sq = np.zeros(3, dtype=np.float64)
        for start in range(0, images_uint8.shape[0], _CHUNK):
            chunk = images_uint8[start : start + _CHUNK].reshape(-1, 3).astype(np.float64)
            total += chunk.sum(axis=0)
            total_sq += np.square(chunk).sum(axis=0)
        count = images_uint8.shape[0] * images_uint8.shape[1] * images_uint8.shape[2]
        mean = total / count
        var = np.maximum(total_sq / count - mean**2, 0.0)
        std = np.sqrt(var)
        if np.any(std == 0):
            raise ConfigError(f"images have a constant channel (std {tuple(std / 255)}); cannot normalise")
        m, s = mean / 255.0, std / 255.0
        return cls(mean=(float(m[0]), float(m[1]), float(m[2])), std=(float(s[0]), float(s[1]), float(s[2])))

    def as_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}


def to_input(images_uint8: np.ndarray, norm: Normalization, channels_last: bool = True) -> torch.Tensor:
    """Float32 NCHW tensor of (images/255 - mean) / std; channels_last memory format when asked."""
    check_images(images_uint8)
    # the NHWC array permuted to NCHW already has channels_last strides, which .to() keeps
    x = torch.from_numpy(np.ascontiguousarray(images_uint8)).permute(0, 3, 1, 2).to(torch.float32)
    mean = torch.tensor(norm.mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    scale = 1.0 / (torch.tensor(norm.std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
    x.sub_(mean).mul_(scale)  # in place: the float copy is the only large allocation
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return x.contiguous(memory_format=fmt)
