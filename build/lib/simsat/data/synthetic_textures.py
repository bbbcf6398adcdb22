"""Vectorised texture primitives for the synthetic scenes: fractal noise, blur, hashing.

Every function works on a batch of images at once (leading axis B) with float32
arrays; nothing here draws random numbers, randomness comes in as arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OCTAVES: tuple[int, ...] = (4, 8, 16, 32)
"""Node counts per side of the value-noise octaves, coarse to fine."""

NOISE_LEN: int = sum(k * k for k in OCTAVES)
"""Random values one noise field needs (all octaves together)."""


def _interp_matrix(nodes: int, size: int) -> np.ndarray:
    """(size, nodes) matrix that interpolates `nodes` values smoothly onto `size` pixels."""
    pos = np.linspace(0.0, nodes - 1.0, size)
    low = np.minimum(np.floor(pos).astype(np.int64), nodes - 2)
    frac = pos - low
    weight = frac * frac * (3.0 - 2.0 * frac)  # smoothstep: no visible grid kinks
    mat = np.zeros((size, nodes), dtype=np.float64)
    rows = np.arange(size)
    mat[rows, low] = 1.0 - weight
    mat[rows, low + 1] = weight
    return mat.astype(np.float32)


@dataclass(frozen=True)
class TextureKit:
    """Pixel grids and the interpolation chain of the noise octaves for one image size."""

    size: int
    x: np.ndarray = field(init=False, repr=False)  # (1, H, W) in [-1, 1], left to right
    y: np.ndarray = field(init=False, repr=False)  # (1, H, W) in [-1, 1], top to bottom
    steps: tuple[np.ndarray, ...] = field(init=False, repr=False)  # octave k -> next octave (or size)
    steps_t: tuple[np.ndarray, ...] = field(init=False, repr=False)  # the same, transposed, contiguous
    spread: np.ndarray = field(init=False, repr=False)  # per octave: output variance per unit input variance
    pixel: float = field(init=False)  # width of one pixel in grid units

    def __post_init__(self) -> None:
        axis = ((np.arange(self.size, dtype=np.float32) + 0.5) / self.size) * 2.0 - 1.0
        object.__setattr__(self, "x", axis[None, None, :].repeat(self.size, axis=1))
        object.__setattr__(self, "y", axis[None, :, None].repeat(self.size, axis=2))
        targets = (*OCTAVES[1:], self.size)
        steps = tuple(_interp_matrix(k, t) for k, t in zip(OCTAVES, targets, strict=True))
        spread = []
        for o in range(len(OCTAVES)):
            chain = np.eye(OCTAVES[o])
            for step in steps[o:]:
                chain = step.astype(np.float64) @ chain
            spread.append(np.mean(np.sum(chain**2, axis=1)) ** 2)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "steps_t", tuple(np.ascontiguousarray(s.T) for s in steps))
        object.__setattr__(self, "spread", np.asarray(spread, dtype=np.float32))
        object.__setattr__(self, "pixel", 2.0 / self.size)


def fbm(kit: TextureKit, noise: np.ndarray, rough: np.ndarray) -> np.ndarray:
    """Fractal value noise with zero mean and unit variance (over images, not per image).

    noise: (B, NOISE_LEN) values uniform in [-0.5, 0.5); rough: (B,) gain from one octave to
    the next, < 1 smooth, > 1 grainy. Octaves are summed coarse to fine, interpolating up
    after each. Returns (B, H, W) float32.
    """
    batch = noise.shape[0]
    rough = rough.astype(np.float32)
    gain = np.ones(batch, dtype=np.float32)
    total = np.zeros(batch, dtype=np.float32)
    acc = np.zeros((batch, OCTAVES[0], OCTAVES[0]), dtype=np.float32)
    offset = 0
    for o, k in enumerate(OCTAVES):
        acc += noise[:, offset : offset + k * k].reshape(batch, k, k) * gain[:, None, None]
        total += gain * gain * kit.spread[o]
        target = kit.steps[o].shape[0]
        right = (acc.reshape(batch * k, k) @ kit.steps_t[o]).reshape(batch, k, target)  # one 2-D gemm
        acc = np.matmul(kit.steps[o], right)
        gain = gain * rough
        offset += k * k
    acc *= (1.0 / np.sqrt(total / 12.0))[:, None, None]
    return acc


def gaussian_blur(images: np.ndarray, sigma_px: np.ndarray) -> np.ndarray:
    """Blur (B, C, H, W) images with a per-image Gaussian of `sigma_px` pixels (reflecting edges)."""
    size = images.shape[2]
    idx = np.arange(size, dtype=np.float32)
    levels, which = np.unique(np.maximum(sigma_px.astype(np.float32), 1e-3), return_inverse=True)
    sigma = levels[:, None, None]
    diff = idx[None, :, None] - idx[None, None, :]
    mirror_lo = idx[None, :, None] + idx[None, None, :] + 1.0
    mirror_hi = (2.0 * size - 1.0) - idx[None, :, None] - idx[None, None, :]
    kern = np.zeros((levels.size, size, size), dtype=np.float32)
    for offset in (diff, mirror_lo, mirror_hi):
        # clamp the exponent: underflowing exp() is very slow on some CPUs
        kern += np.exp(np.maximum(-0.5 * (offset / sigma) ** 2, -40.0))
    kern /= kern.sum(axis=2, keepdims=True)
    kern = kern[which.reshape(-1)]
    kern_t = np.ascontiguousarray(kern.transpose(0, 2, 1))
    return kern[:, None] @ images @ kern_t[:, None]


def hash_cells(a: np.ndarray, b: np.ndarray, salt: np.ndarray | np.uint32) -> np.ndarray:
    """Integer hash of cell coordinates (a, b) and a per-image salt (B, 1, 1) -> uint32.

    Coordinates must be whole numbers with |value| < 2**31 (cell indices from np.floor).
    """
    h = (np.asarray(a).astype(np.int32).view(np.uint32) ^ np.asarray(salt, dtype=np.uint32)) * np.uint32(0x9E3779B1)
    h ^= h >> np.uint32(16)
    h = h + b.astype(np.int32).view(np.uint32) * np.uint32(0x85EBCA77)  # bijective in b for each a
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x2C1B3C6D)
    h ^= h >> np.uint32(12)
    h *= np.uint32(0x297A2D39)
    h ^= h >> np.uint32(15)
    return h


def hash_unit(a: np.ndarray, b: np.ndarray, salt: np.ndarray) -> np.ndarray:
    """Hash of cell coordinates mapped to float32 in [0, 1)."""
    return (hash_cells(a, b, salt) >> np.uint32(8)).astype(np.float32) / np.float32(1 << 24)


def smooth_step(edge0: float | np.ndarray, edge1: float | np.ndarray, x: np.ndarray) -> np.ndarray:
    """Hermite step from 0 at edge0 to 1 at edge1 (edge0 may exceed edge1 for a falling step)."""
    t = np.subtract(x, edge0, dtype=np.float32)
    t *= np.float32(1.0) / np.subtract(edge1, edge0, dtype=np.float32)
    np.clip(t, 0.0, 1.0, out=t)
    out = 3.0 - 2.0 * t
    out *= t
    out *= t
    return out
