"""Distillation losses and the per-image knowledge packet the ground station sends.

kd_loss, for weights w = rule(p) (B, K) and alpha_i = mean_k w_ik:
    L = mean_i[(1 - alpha_i) CE_i] + T^2 mean_i[alpha_i sum_k w_ik KL(p_ik || q_i)]
with p_k = softmax(z_k / T), q = softmax(z_S / T), KL summed over classes. For the paper
rule (a, b are constant over the batch) this is Le et al.'s
    L = (1 - (a+b)/2) CE + ((a+b)/2) T^2 [a KL_1 + b KL_2]   (KL with batchmean).

Knowledge packet: since sum_k w_k KL(p_k || q) = const - sum_c (sum_k w_k p_kc) log q_c,
the mixture t = sum_k w_k p_k / s (s = sum_k w_k) with kd_weight = alpha * s gives
weighted_kd_loss the same gradient w.r.t. the student logits as kd_loss.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from simsat.distill.weighting import WeightingRule, get_weighting
from simsat.errors import ConfigError

RuleArg = str | Callable[..., torch.Tensor]


def _resolve(rule: RuleArg) -> WeightingRule:
    return get_weighting(rule) if isinstance(rule, str) else rule


def _check_temperature(temperature: float) -> None:
    if not temperature > 0:
        raise ConfigError(f"temperature must be > 0, got {temperature}")


def _teacher_probs(teacher_logits: Sequence[torch.Tensor], temperature: float) -> torch.Tensor:
    if len(teacher_logits) == 0:
        raise ConfigError("distillation needs at least one teacher's logits")
    shapes = {tuple(t.shape) for t in teacher_logits}
    if len(shapes) != 1:
        raise ConfigError(f"teacher logits must all have the same shape, got {sorted(shapes)}")
    z = torch.stack([t.detach() for t in teacher_logits]).float()
    return torch.softmax(z / temperature, dim=-1)


def soft_kl(targets: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """Per-row KL(targets || q) summed over the last axis, given log q (0 log 0 = 0)."""
    return (torch.special.xlogy(targets, targets) - targets * log_q).sum(dim=-1)


def _masked_ce(student_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-image cross-entropy; images with a negative label (unlabelled) contribute 0."""
    labelled = labels >= 0
    ce = F.cross_entropy(student_logits, labels.clamp_min(0), reduction="none")
    return torch.where(labelled, ce, torch.zeros_like(ce))


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: Sequence[torch.Tensor],
    labels: torch.Tensor,
    rule: RuleArg,
    temperature: float = 5.0,
) -> torch.Tensor:
    """Le et al.'s loss generalised to any rule and number of teachers ("none": plain CE)."""
    _check_temperature(temperature)
    if isinstance(rule, str) and rule == "none":
        return _masked_ce(student_logits, labels).mean()
    weigh = _resolve(rule)
    p = _teacher_probs(teacher_logits, temperature)  # (K, B, C)
    if p.shape[1:] != student_logits.shape:
        raise ConfigError(f"teacher logits {tuple(p.shape[1:])} do not match student {tuple(student_logits.shape)}")
    w = weigh(p, temperature=temperature).to(student_logits.dtype)  # (B, K)
    alpha = w.mean(dim=1)
    log_q = F.log_softmax(student_logits / temperature, dim=-1)
    kl = torch.stack([soft_kl(p[k].to(log_q.dtype), log_q) for k in range(p.shape[0])], dim=1)  # (B, K)
    ce = _masked_ce(student_logits, labels)
    kd = (w * kl).sum(dim=1)
    return ((1.0 - alpha) * ce).mean() + temperature**2 * (alpha * kd).mean()


def weighted_kd_loss(
    student_logits: torch.Tensor,
    targets: torch.Tensor,
    kd_weight: torch.Tensor,
    ce_weight: torch.Tensor,
    labels: torch.Tensor | None,
    temperature: float,
) -> torch.Tensor:
    """mean_i[ce_weight_i CE_i] (labelled images only) + T^2 mean_i[kd_weight_i KL(targets_i || q_i)]."""
    _check_temperature(temperature)
    log_q = F.log_softmax(student_logits / temperature, dim=-1)
    loss = temperature**2 * (kd_weight * soft_kl(targets, log_q)).mean()
    if labels is not None:
        loss = loss + (ce_weight * _masked_ce(student_logits, labels)).mean()
    return loss


@dataclass
class Knowledge:
    """Per-image distillation targets: one soft label (at T) and scalar weights per image."""

    targets: torch.Tensor  # (N, C), rows sum to 1
    kd_weight: torch.Tensor  # (N,)
    ce_weight: torch.Tensor  # (N,)
    teacher_weights: torch.Tensor  # (N, K), the rule's raw weights

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def subset(self, index: torch.Tensor | Sequence[int]) -> Knowledge:
        """The knowledge of the images at `index` (row selection)."""
        idx = torch.as_tensor(index, dtype=torch.long)
        return Knowledge(self.targets[idx], self.kd_weight[idx], self.ce_weight[idx], self.teacher_weights[idx])


def knowledge_targets(
    teacher_logits: Sequence[torch.Tensor],
    rule: RuleArg,
    temperature: float,
    batch_size: int = 64,
) -> Knowledge:
    """Soft labels and weights equivalent (same student gradient) to kd_loss on the raw logits.

    Batch-level rules (paper) see consecutive batches of `batch_size` images in the given order.
    """
    _check_temperature(temperature)
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    weigh = _resolve(rule)
    p = _teacher_probs(teacher_logits, temperature)  # (K, N, C)
    if p.dim() != 3:
        raise ConfigError(f"teacher logits must have shape (N, C), got {tuple(p.shape[1:])}")
    n = p.shape[1]
    if n == 0:
        empty = p.new_zeros((0,))
        return Knowledge(p.new_zeros((0, p.shape[2])), empty, empty.clone(), p.new_zeros((0, p.shape[0])))
    w = torch.cat([weigh(p[:, i : i + batch_size], temperature=temperature) for i in range(0, n, batch_size)])
    w = w.to(p.dtype).reshape(n, p.shape[0])
    s = w.sum(dim=1)
    mixture = torch.einsum("nk,knc->nc", w, p)
    fallback = p.mean(dim=0)  # any distribution will do where the KD weight is zero
    positive = (s > 0).unsqueeze(1)
    targets = torch.where(positive, mixture / s.clamp_min(1e-12).unsqueeze(1), fallback)
    alpha = w.mean(dim=1)
    return Knowledge(targets=targets, kd_weight=alpha * s, ce_weight=1.0 - alpha, teacher_weights=w)
