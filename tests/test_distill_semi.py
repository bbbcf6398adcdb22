"""The FixMatch-style consistency term: masked by confidence, seeded, differentiable."""

from __future__ import annotations

import torch

from simsat.distill.semi import SemiSupervised, consistency_loss
from simsat.models.registry import create_student


def _pool(n: int = 12) -> torch.Tensor:
    return torch.randn(n, 3, 32, 32, generator=torch.Generator().manual_seed(3))


def test_no_image_counts_above_an_unreachable_threshold() -> None:
    model = create_student("resnet8", 10)
    semi = SemiSupervised(weight=1.0, threshold=1.01, ratio=2)
    loss = consistency_loss(model, _pool(), 8, semi, torch.Generator().manual_seed(0))
    assert float(loss.detach()) == 0.0


def test_every_pseudo_label_counts_at_threshold_zero_and_the_loss_trains_the_model() -> None:
    model = create_student("resnet8", 10)
    semi = SemiSupervised(weight=1.0, threshold=0.0, ratio=2)
    loss = consistency_loss(model, _pool(), 8, semi, torch.Generator().manual_seed(0))
    assert float(loss.detach()) > 0.0
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and any(float(g.abs().sum()) > 0 for g in grads)


def test_same_generator_seed_same_loss() -> None:
    model = create_student("resnet8", 10).eval()  # eval: BatchNorm statistics do not move between calls
    semi = SemiSupervised(weight=1.0, threshold=0.0, ratio=2)
    a = consistency_loss(model, _pool(), 8, semi, torch.Generator().manual_seed(5))
    b = consistency_loss(model, _pool(), 8, semi, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
