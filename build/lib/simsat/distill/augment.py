"""Batch augmentation on tensors: random flips and 90-degree rotations, chosen per image."""

from __future__ import annotations

import torch


def dihedral(x: torch.Tensor, code: int) -> torch.Tensor:
    """One of the 8 symmetries of a square: rotate by code % 4 quarter turns, then flip if code >= 4."""
    out = torch.rot90(x, k=code % 4, dims=(2, 3)) if code % 4 else x
    return torch.flip(out, dims=(3,)) if code >= 4 else out


def flips(x: torch.Tensor, code: int) -> torch.Tensor:
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
    op = dihedral if square else flips
    codes = torch.randint(0, n_ops, (x.shape[0],), generator=generator)
    out = torch.empty_like(x)
    for code in range(n_ops):
        idx = torch.nonzero(codes == code).squeeze(1)
        if idx.numel():
            out[idx] = op(x[idx], code)
    return out


def strong_augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A strong view for consistency training (FixMatch-style): a random flip / quarter turn,
    then per-image brightness, contrast and colour jitter on the normalised tensor, and a
    random square cut out (a quarter of the edge). The memory format of `x` is kept."""
    out = random_flip_rotate(x, generator)
    b = x.shape[0]
    shape = (b, 1, 1, 1)
    scale = 1.0 + (torch.rand(shape, generator=generator) - 0.5) * 0.8  # contrast 0.6-1.4
    shift = (torch.rand(shape, generator=generator) - 0.5) * 0.8  # brightness +-0.4 std
    colour = (torch.rand((b, x.shape[1], 1, 1), generator=generator) - 0.5) * 0.4
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean) * scale + mean + shift + colour
    h, w = x.shape[-2], x.shape[-1]
    cut = max(h // 4, 1)
    top = torch.randint(0, h - cut + 1, (b,), generator=generator)
    left = torch.randint(0, w - cut + 1, (b,), generator=generator)
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    hole = (
        (rows >= top.view(b, 1, 1))
        & (rows < (top + cut).view(b, 1, 1))
        & (cols >= left.view(b, 1, 1))
        & (cols < (left + cut).view(b, 1, 1))
    )
    out = out.masked_fill(hole.unsqueeze(1), 0.0)
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        out = out.contiguous(memory_format=torch.channels_last)
    return out
