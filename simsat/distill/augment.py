"""Batch augmentation on tensors: random flips and 90-degree rotations, chosen per image."""

from __future__ import annotations

import torch


def _dihedral(x: torch.Tensor, code: int) -> torch.Tensor:
    """One of the 8 symmetries of a square: rotate by code % 4 quarter turns, then flip if code >= 4."""
    out = torch.rot90(x, k=code % 4, dims=(2, 3)) if code % 4 else x
    return torch.flip(out, dims=(3,)) if code >= 4 else out


def _flips(x: torch.Tensor, code: int) -> torch.Tensor:
    """Horizontal (bit 0) and vertical (bit 1) flips, for non-square images."""
    dims = [d for bit, d in ((1, 3), (2, 2)) if code & bit]
    return torch.flip(x, dims=dims) if dims else x


def random_flip_rotate(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Apply to each image of the (B, C, H, W) batch a random flip / 90-degree rotation.

    Square images get one of the 8 dihedral symmetries uniformly (this covers horizontal and
    vertical flips and all quarter turns); non-square ones one of the 4 flip combinations.
    The memory format of `x` is kept.
    """
    square = x.shape[-1] == x.shape[-2]
    n_ops = 8 if square else 4
    op = _dihedral if square else _flips
    codes = torch.randint(0, n_ops, (x.shape[0],), generator=generator)
    out = torch.empty_like(x)
    for code in range(n_ops):
        idx = torch.nonzero(codes == code).squeeze(1)
        if idx.numel():
            out[idx] = op(x[idx], code)
    return out
